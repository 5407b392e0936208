"""Quitting: while an action runs the app stays until it has finished and recorded its
result (a worker thread cannot be stopped halfway); ctrl+c and q quit like ctrl+q. The
terminal side of quitting (modes given back, signals) is in tests/terminal/."""

import threading

import pytest
from tui_support import (
    PASSPHRASE,
    SIZE,
    make_workspace,
    notifications,
    settle,
    until,
    workspace_app,
)

from workbench.tui.screens.passphrase import PassphraseScreen
from workbench.tui.widgets.steps import StepsTable
from workbench.workspace import Workspace

STEP = "pay-key-prod"


class HeldAction:
    """A real workspace source whose actions wait for the test before they run."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def run(self, *args, **kwargs):
        self.started.set()
        assert self.release.wait(60), "the test never released the action"
        return self.inner.run(*args, **kwargs)


async def _select(app, pilot, key: str) -> None:
    table = app.query_one(StepsTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    assert app.selected_step == key


async def test_quit_while_an_action_runs_waits_for_its_result_then_quits(tmp_path, quiet_env):
    """ctrl+q gave the terminal back at once and left the action running unseen (the
    process then lingered on a blank prompt until it was done)."""
    ws = make_workspace(tmp_path)
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    app = workspace_app(ws)
    held = app.source = HeldAction(app.source)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _select(app, pilot, STEP)
        await pilot.press("i")
        await until(pilot, held.started.is_set, "the issue action started")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code is None  # still running ...
        said = [n.message for n in notifications(app) if n.title == "quitting"]
        assert said and f"issue --step {STEP} is still running" in said[0]  # ... and says so
        held.release.set()
        await until(pilot, lambda: app.return_code is not None, "quit once it was done", 60)
    assert app.return_code == 0
    with Workspace.open(ws) as opened:
        assert opened.step(STEP).state == "issued"  # the action finished and was recorded


async def test_asked_twice_it_quits_at_once(tmp_path, quiet_env):
    ws = make_workspace(tmp_path)
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    app = workspace_app(ws)
    held = app.source = HeldAction(app.source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("i")
            await until(pilot, held.started.is_set, "the issue action started")
            await pilot.press("ctrl+q", "ctrl+q")
            await until(pilot, lambda: app.return_code is not None, "quit at once")
            assert app.busy  # the action still runs: `workbench tui` says it waits for it
    finally:
        held.release.set()


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_quit_like_ctrl_q(tmp_path, quiet_env, key):
    app = workspace_app(make_workspace(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await until(pilot, lambda: app.return_code is not None, f"{key} quits")
    assert app.return_code == 0


async def test_q_typed_into_a_dialog_is_text_not_quit(tmp_path, quiet_env):
    app = workspace_app(make_workspace(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("i")  # no passphrase in the environment: the prompt opens
        await until(pilot, lambda: isinstance(app.screen, PassphraseScreen), "the prompt")
        await pilot.press("q", "q")
        await pilot.pause()
        assert app.return_code is None
        assert app.screen.query_one("Input").value == "qq"


async def test_q_in_a_dialog_does_not_end_the_app_behind_it(tmp_path, quiet_env):
    from workbench.tui.screens.confirm import ConfirmScreen

    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    app = workspace_app(make_workspace(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _select(app, pilot, STEP)
        await pilot.press("i")
        await settle(app, pilot)
        await pilot.press("d")  # gateway set-mode dual: checked, then asked
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code is None and isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "cancelled")
