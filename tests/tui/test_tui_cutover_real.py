"""The step actions end to end on the real sample environment (Python reference gateway):
issue, dual, usage, cut over (PASS, verified) and verify, driven through the TUI."""

import json
import os

import pytest
from textual.widgets import TabbedContent
from tui_support import (
    PASSPHRASE,
    SIZE,
    free_port,
    make_workspace,
    notifications,
    screen_text,
    settle,
    workspace_app,
)

from workbench.cli import main
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.widgets.evidence import EvidenceView
from workbench.tui.widgets.steps import StepsTable

STEP = "records-key"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def running_env(tmp_path, quiet_env, capsys):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    # Real clock: the gateway checks certificate validity against real time.
    ws = make_workspace(tmp_path, port=free_port(), clock=False)
    capsys.readouterr()
    assert main(["sample-env", "up", "--workspace", str(ws), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    try:
        yield ws
    finally:
        main(["sample-env", "down", "--workspace", str(ws)])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not _alive(pid), f"process {pid} left behind"


def state_of(app, key: str) -> str:
    return app.query_one(StepsTable).cells_of(key)["state"]


async def test_issue_dual_usage_cutover_verify(running_env):
    app = workspace_app(running_env, clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.selected_step == STEP  # the first row
        for key, state in (("i", "issued"), ("d", "dual"), ("u", "dual")):
            await pilot.press(key)
            await settle(app, pilot)
            if key == "d":  # a gateway change: asks first, saying what it will do
                assert isinstance(app.screen, ConfirmScreen)
                assert "from key to dual" in app.screen.question
                await pilot.press("y")
                await settle(app, pilot)
            assert state_of(app, STEP) == state, notifications(app)
            assert app.last_result.ok, app.last_result
        assert "no request with the old key" in app.last_result.message

        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "from dual to mtls" in app.screen.question
        await pilot.click("#confirm-yes")
        await settle(app, pilot)
        assert app.last_result.ok and "PASS" in app.last_result.message, notifications(app)
        assert state_of(app, STEP) == "verified"
        assert app.query_one(TabbedContent).active == "evidence"
        evidence = app.query_one(EvidenceView).evidence
        assert evidence.verdict == "PASS" and evidence.step == STEP
        assert {p.name for p in evidence.probes} >= {"positive-control", "old-key-only"}
        assert all(p.ip == "127.0.0.1" for p in evidence.probes)
        assert f"{STEP}: PASS" in screen_text(app)

        await pilot.press("v")
        await settle(app, pilot)
        assert app.last_result.ok and state_of(app, STEP) == "verified"

        # A gateway change on a verified step voids its proof: the dialog says so, and
        # confirming it is the CLI's --force.
        await pilot.press("1", "d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"gateway set-mode dual --step {STEP} --force" in app.screen.question
        assert "is verified: this change voids that proof" in app.screen.question
        assert app.screen.confirm_label == "gateway set-mode dual --force"
        await pilot.press("escape")
        await settle(app, pilot)
        assert state_of(app, STEP) == "verified"


async def test_blocked_cutover_offers_since_and_force(running_env):
    """Consumers still send the old key: the cut-over is refused with the reason and the
    CLI's ways on; `--since` (after the last use found) then cuts over with proof."""
    from workbench.lab.traffic import consumer_calls
    from workbench.migration import open_campaign
    from workbench.tui.screens.blocked import BlockedCutoverScreen

    app = workspace_app(running_env, clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot)
        app.request("set-mode:dual")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert state_of(app, STEP) == "dual", notifications(app)
        with open_campaign(running_env) as campaign:
            calls = consumer_calls(campaign, STEP, "key")  # consumers not moved yet
        assert calls and all(c.status == 200 for c in calls), calls

        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, BlockedCutoverScreen)
        blocked = app.screen.blocked
        assert blocked.accepted == len(calls)
        text = screen_text(app)
        assert "--since" in text and "--force" in text and "accepted" in text
        assert app.focused.id == "blocked-cancel"  # Enter alone changes nothing
        await pilot.click("#blocked-since")
        await settle(app, pilot)
        assert app.last_result.ok and "PASS" in app.last_result.message, notifications(app)
        assert state_of(app, STEP) == "verified"
