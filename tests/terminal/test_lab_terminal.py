"""Long commands against the sample environment, in a real terminal: ctrl+c in the middle
of a verification leaves nothing half-written, a cut-over shows that it is working, and a
key retired by a cut-over stays retired when the lab is restarted."""

from __future__ import annotations

import subprocess

import pytest
from terminal import BASE_ENV, PASSPHRASE, WORKBENCH
from testkit import copy_inventory, free_port

ENV = {**BASE_ENV, "WORKBENCH_CA_PASSPHRASE": PASSPHRASE}


def _workbench(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(WORKBENCH), *args], capture_output=True, text=True, env=ENV, timeout=300, check=False
    )
    assert done.returncode in ok, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def lab_ws(tmp_path_factory):
    """A workspace with wave 1 issued and its lab running (stopped at the end)."""
    from workbench.migration import init_workspace

    base = tmp_path_factory.mktemp("lab")
    ws = base / "ws"
    init_workspace(copy_inventory(base, free_port()), ws, passphrase=PASSPHRASE, kdf_rounds=1)
    _workbench("sample-env", "up", "--workspace", str(ws))
    try:
        _workbench("issue", "--wave", "1", "--workspace", str(ws))
        yield ws
    finally:
        _workbench("sample-env", "down", "--workspace", str(ws))


def _verdicts(ws) -> int:
    from workbench.workspace import Workspace

    with Workspace.open(ws) as opened:
        return sum(len(opened.verdicts(s.key)) for s in opened.steps())


def test_ctrl_c_in_a_long_verification_leaves_nothing_half_written(terminal, lab_ws):
    before = _verdicts(lab_ws)
    argv = [WORKBENCH, "verify", "--wave", "1", "--repeat", "400", "--workspace", lab_ws]
    term = terminal(argv, env=ENV)
    term.wait_for("verifying")  # the progress bar: the probes are running
    term.keys("C-c")
    assert term.exit_status() == 130
    lines = [line for line in term.text().splitlines() if line.strip()]
    # One line (after the ^C the terminal echoes, when the bar was not drawn over it).
    assert lines[-1] == "[exited 130]" and lines[-2].removeprefix("^C") == "interrupted", lines
    assert "Traceback" not in term.text()
    assert _verdicts(lab_ws) == before  # no verdict of an unfinished run
    _workbench("audit", "verify", "--workspace", str(lab_ws))  # chain and state agree


def test_a_cut_over_shows_that_it_is_working(terminal, lab_ws):
    """It showed nothing on the terminal for the seconds it probed."""
    ws = str(lab_ws)
    _workbench("gateway", "set-mode", "dual", "--step", "pay-key-prod", "--workspace", ws)
    term = terminal([WORKBENCH, "cutover", "--step", "pay-key-prod", "--workspace", ws], env=ENV)
    term.wait_for("cutting over pay-key-prod")
    assert term.exit_status() == 0
    assert "cut over and verified" in term.text()


def test_a_lab_restart_keeps_a_retired_key_retired(lab_ws):
    """customer-profile-api also takes admin-profile-key, so it stays dual when profile-key
    is retired. A restarted lab gave the route every key of the API again: the retired key
    was accepted and the next verification of the verified step said FAIL."""
    ws = str(lab_ws)
    _workbench("gateway", "set-mode", "dual", "--step", "profile-key", "--workspace", ws)
    _workbench("cutover", "--step", "profile-key", "--workspace", ws)
    _workbench("sample-env", "down", "--workspace", ws)
    _workbench("sample-env", "up", "--workspace", ws)
    done = _workbench("verify", "--step", "profile-key", "--workspace", ws, ok=(0, 1))
    assert done.returncode == 0 and "verdict: PASS" in done.stdout, done.stdout[-2000:]


INTERRUPTED_WHILE_TAKING_OFF = """
import os, signal, sys
from workbench.drill import gateways
from workbench.cli import main

take_off = gateways.revoke_authorisation


def interrupted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # the user's ctrl+c, at the worst moment
    return take_off(*args, **kwargs)


gateways.revoke_authorisation = interrupted
sys.exit(main(["drill", "canary", "--workspace", sys.argv[1]]))
"""


def test_ctrl_c_while_a_canary_is_taken_off_still_takes_it_off(lab_ws):
    """A KeyboardInterrupt in the middle of taking the canary off its gateways left it
    authorised, unaudited: its still-valid control certificate was let in afterwards."""
    import sys

    from workbench.drill.canary import canary_identity
    from workbench.lab.workspace import lab_state_dir
    from workbench.migration import open_campaign
    from workbench.workspace import Workspace

    ws = str(lab_ws)
    _workbench("gateway", "set-mode", "dual", "--step", "claims-key", "--workspace", ws)
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_WHILE_TAKING_OFF, ws],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
        check=False,
    )
    assert done.returncode == 130 and done.stderr.splitlines()[-1] == "interrupted", done.stderr
    with open_campaign(lab_ws, passphrase=lambda: PASSPHRASE) as campaign:
        identity, state = canary_identity(campaign), lab_state_dir(campaign)
    configs = [p.read_text() for p in state.glob("*/*.json")]
    assert configs and not any(identity in text for text in configs)
    with Workspace.open(lab_ws) as opened:
        actions = [r.action for r in opened.audit_records()][-6:]
    assert "drill.canary_deauthorise" in actions
