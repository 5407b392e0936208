"""Fixtures for tests/migration; helpers live in migration_support."""

from pathlib import Path

import pytest
from migration_support import PASSPHRASE, copy_inventory


@pytest.fixture
def inventory(tmp_path) -> Path:
    """A private copy of the sample inventory (the workspace records its absolute path)."""
    return copy_inventory(tmp_path)


@pytest.fixture
def workspace(tmp_path, inventory, monkeypatch) -> Path:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    return ws
