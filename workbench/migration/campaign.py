"""A Campaign: an open workspace with its inventory and (lazily) its CA."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workbench.errors import PKIError
from workbench.inventory.model import Inventory
from workbench.workspace import Workspace

PASSPHRASE_ENV = "WORKBENCH_CA_PASSPHRASE"  # noqa: S105 (a variable name)
CA_DIR = "ca"
CRL_DIR = "crl"

PassphraseSource = Callable[[], str | None]


def passphrase_from_env() -> str | None:
    return os.environ.get(PASSPHRASE_ENV)


@dataclass
class Campaign:
    """Everything one migration needs, opened once per command."""

    workspace: Workspace
    inventory: Inventory
    passphrase: PassphraseSource = passphrase_from_env
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _ca: object | None = None

    @property
    def directory(self) -> Path:
        return self.workspace.directory

    @property
    def ca_dir(self) -> Path:
        return self.directory / CA_DIR

    @property
    def crl_dir(self) -> Path:
        return self.directory / CRL_DIR

    @property
    def trust_domain(self) -> str:
        return self.workspace.info().trust_domain

    def ca(self):  # -> LocalCA (imported lazily: cryptography is heavy)
        if self._ca is None:
            from workbench.pki import LocalCA

            secret = self.passphrase()
            if not secret:
                raise PKIError(
                    f"the CA key is encrypted: set {PASSPHRASE_ENV} (or answer the prompt)"
                )
            self._ca = LocalCA.load(self.ca_dir, secret)
        return self._ca

    def wave_steps(self, wave: int) -> list[str]:
        """The step keys of a wave, in plan order; a clear error for an empty or unknown wave."""
        from workbench.errors import InputError

        steps = [s.key for s in self.workspace.steps(wave=wave)]
        if not steps:
            raise InputError(f"wave {wave} has no steps: see `workbench status`")
        return steps

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.workspace.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_campaign(
    directory: Path | str,
    *,
    passphrase: PassphraseSource = passphrase_from_env,
    clock: Callable[[], datetime] | None = None,
) -> Campaign:
    """Open the workspace at ``directory`` and reload its inventory (validated again)."""
    from workbench.inventory import load_inventory

    ws = Workspace.open(Path(directory))
    try:
        inventory = load_inventory(Path(ws.info().inventory_path))
    except BaseException:
        ws.close()
        raise
    kwargs = {"clock": clock} if clock else {}
    return Campaign(ws, inventory, passphrase, **kwargs)
