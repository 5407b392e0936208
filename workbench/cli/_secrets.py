"""Passphrases for the CLI: from the environment, else a prompt on the terminal."""

from __future__ import annotations

import getpass
import os
import sys

from workbench.errors import PKIError
from workbench.migration.campaign import PASSPHRASE_ENV


def ca_passphrase(*, confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise PKIError(f"the CA passphrase is needed: set {PASSPHRASE_ENV} (no terminal to ask on)")
    from workbench.cli._common import bars_paused

    with bars_paused():
        first = getpass.getpass("CA passphrase: ")
        if confirm and getpass.getpass("again: ") != first:
            raise PKIError("the two passphrases differ: try again")
    if not first:
        raise PKIError("an empty CA passphrase is refused")
    return first


def passphrase_source():
    """A callable for Campaign: asks only when the CA key is really needed."""
    return lambda: ca_passphrase(confirm=False)


def open_workspace_campaign(args):
    """The campaign of ``--workspace``; the CA passphrase is asked for only when needed."""
    from workbench.migration import open_campaign

    return open_campaign(args.workspace, passphrase=passphrase_source())
