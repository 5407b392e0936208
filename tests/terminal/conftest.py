"""Fixtures for tests/terminal: the real binary in a real terminal (see terminal.py)."""

from __future__ import annotations

import pytest
from terminal import PASSPHRASE, Terminal
from testkit import copy_inventory


@pytest.fixture
def terminal():
    """``terminal(argv, size=..., env=..., cwd=...)`` opens one; all are closed afterwards."""
    opened: list[Terminal] = []

    def open_terminal(argv, **options) -> Terminal:
        term = Terminal([str(a) for a in argv], **options)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


@pytest.fixture
def workspace(tmp_path):
    """A real workspace on a private copy of the sample inventory (cheap CA key KDF)."""
    from workbench.migration import init_workspace

    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    init_workspace(inventory, ws, passphrase=PASSPHRASE, kdf_rounds=1)
    return ws
