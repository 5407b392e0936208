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

START_ATTEMPTS = 3


@pytest.fixture
def lab(tmp_path, monkeypatch, request, capsys):
    kind = request.param
    ensure_gateway_available(kind)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    # The port is free when chosen, but another test run on this shared machine may bind it
    # before the gateway does: then start over in a fresh directory on another port.
    for attempt in range(1, START_ATTEMPTS + 1):
        root = tmp_path / f"try{attempt}"
        root.mkdir()
        port = free_port()
        inventory = copy_inventory(root, port)
        ws = root / "ws"
        w = ["--workspace", str(ws)]
        assert main(["init", str(inventory), *w]) == 0
        code, status = run_json(capsys, ["sample-env", "up", "--gateway", kind, *w])
        if code == 0:
            break
        run_json(capsys, ["sample-env", "down", *w])
    assert code == 0 and status["gateway"] == kind, capsys.readouterr().err
    try:
        assert main(["issue", "--step", "pay-key-prod", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w]) == 0
        capsys.readouterr()
        yield ws, root, port
    finally:
        run_json(capsys, ["sample-env", "down", *w])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid), f"process {pid} left behind"
