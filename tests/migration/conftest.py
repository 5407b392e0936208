import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
PASSPHRASE = "test-passphrase-not-secret"


@pytest.fixture
def inventory(tmp_path) -> Path:
    """A private copy of the sample inventory (the workspace records its absolute path)."""
    dst = tmp_path / "inventory.yaml"
    shutil.copy(SAMPLE, dst)
    return dst


@pytest.fixture
def workspace(tmp_path, inventory, monkeypatch) -> Path:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    return ws
