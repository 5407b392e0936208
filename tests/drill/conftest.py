"""Fixtures for the drill tests: a workspace with the lab running on a free port, step
pay-key-prod issued and in dual (its consumers' certificates are accepted)."""

import pytest
from drill_support import (
    PASSPHRASE,
    copy_inventory,
    ensure_gateway_available,
    free_port,
    pid_alive,
    run_json,
)

from workbench.cli import main


@pytest.fixture
def lab(tmp_path, monkeypatch, request, capsys):
    kind = request.param
    ensure_gateway_available(kind)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    port = free_port()
    inventory = copy_inventory(tmp_path, port)
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    assert main(["init", str(inventory), *w]) == 0
    code, status = run_json(capsys, ["sample-env", "up", "--gateway", kind, *w])
    assert code == 0 and status["gateway"] == kind
    try:
        assert main(["issue", "--step", "pay-key-prod", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w]) == 0
        capsys.readouterr()
        yield ws, tmp_path, port
    finally:
        run_json(capsys, ["sample-env", "down", *w])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid), f"process {pid} left behind"
