"""Pilot tests of the actions beyond the footer keys, on real workspaces (no gateway): the
loading worker, missing old-key values, forms (export playbook, revoke), 80x24."""

import threading
from pathlib import Path

import pytest
from textual.widgets import Input, Select
from tui_support import (
    FIXED_NOW,
    PASSPHRASE,
    SIZE,
    copy_inventory,
    fixed_clock,
    make_workspace,
    notifications,
    screen_text,
    settle,
    until,
    workspace_app,
)

from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.form import FormScreen
from workbench.tui.screens.secret import OldKeyScreen
from workbench.tui.widgets.footer import KeysFooter
from workbench.tui.widgets.status import ActionStatus
from workbench.tui.widgets.steps import StepsTable
from workbench.workspace import Workspace

STEP = "pay-key-prod"
VARIABLE = "TUI_TEST_PAY_KEY_VALUE"


async def select(app, pilot, key: str) -> None:
    table = app.query_one(StepsTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    assert app.selected_step == key


class SlowSource:
    """A real source whose load waits for the test: shows what the app does meanwhile."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.read_only = inner.read_only
        self.app = None
        self.footer_at_start: list[str] | None = None
        """The footer's keys as laid out on screen when the loader started."""

    def load(self, stage=lambda text: None):
        if self.footer_at_start is None and self.app is not None:
            keys = self.app.query_one(KeysFooter).children
            self.footer_at_start = [k.key for k in keys if k.region]
        stage("reading a very large inventory")
        assert self.release.wait(30), "the test never released the loader"
        return self.inner.load(stage)

    def findings(self, snapshot):
        return self.inner.findings(snapshot)


async def test_first_frame_does_not_wait_for_the_plan(tmp_path, quiet_env, monkeypatch):
    from tui_support import app_inventory

    # The app's bounds on waiting for the footer are for a frame that never comes; here the
    # order is under test, not the clock: a busy machine must not let the loader go first.
    monkeypatch.setattr("workbench.tui.app.FOOTER_WAIT_TICKS", 10**6)
    monkeypatch.setattr("workbench.tui.app.FIRST_FRAME_WAIT", 600.0)

    from workbench.plan import make_plan
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.source import PlanningSource

    inv = app_inventory(tmp_path)
    source = SlowSource(
        PlanningSource(inv, make_plan(inv, today=FIXED_NOW.date()), clock=fixed_clock)
    )
    app = source.app = WorkbenchApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loading == "reading a very large inventory", "loader")
        # The loader (whose imports hold the GIL) started only once the first frame was out,
        # footer keys included.
        assert {"ctrl+q", "ctrl+r", "ctrl+p"} <= set(source.footer_at_start or ())
        # The screen is up and live while the loader still runs: its stage is shown.
        assert app.query_one(ActionStatus).has_class("running")
        assert "loading: reading a very large inventory" in screen_text(app)
        assert app.query_one(StepsTable).row_count == 0
        await pilot.press("4")  # keys work meanwhile
        await pilot.pause()
        assert app.query_one("#tabs").active == "findings"
        source.release.set()
        await settle(app, pilot)
        assert app.loading is None and app.query_one(StepsTable).row_count == 16
        assert app.query_one("#findings-table").row_count > 0  # computed after the table
        assert not app.query_one(ActionStatus).has_class("running")


@pytest.fixture
def env_ref_ws(tmp_path, quiet_env):
    """A workspace whose STEP key comes from an environment variable that is not set."""
    from workbench.migration import init_workspace

    quiet_env.delenv(VARIABLE, raising=False)
    inventory = copy_inventory(tmp_path)
    text = inventory.read_text()
    assert f"file:state/keys/{STEP}.key" in text
    inventory.write_text(text.replace(f"file:state/keys/{STEP}.key", f"env:{VARIABLE}"))
    ws = tmp_path / "ws"
    init_workspace(inventory, ws, passphrase=PASSPHRASE, kdf_rounds=1, now=FIXED_NOW)
    return ws


async def test_missing_old_key_is_asked_for_masked_and_kept_in_memory(env_ref_ws, tmp_path):
    value = "OLDKEYv4lue-never-shown-0123456789"
    app = workspace_app(env_ref_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, OldKeyScreen)
        assert f"${VARIABLE}" in screen_text(app)
        field = app.screen.query_one(Input)
        assert field.password and app.focused is field
        field.value = value
        await pilot.pause()
        assert value not in screen_text(app)  # masked
        await pilot.press("enter")
        await settle(app, pilot)
        # The value was used: usage got past the key and failed on the missing gateway log.
        assert app.source.old_key_env == {VARIABLE: value}
        errors = [n for n in notifications(app) if n.severity == "error"]
        assert len(errors) == 1 and VARIABLE not in errors[0].message, errors
        seen = [screen_text(app)]
        for tab in ("2", "3", "4", "1"):
            await pilot.press(tab)
            await pilot.pause()
            seen.append(screen_text(app))
        messages = [f"{n.title} {n.message}" for n in notifications(app)]
        assert not any(value in text for text in seen + messages)
        # Asked once: the next action that reads it does not ask again.
        await pilot.press("u")
        await settle(app, pilot)
        assert not isinstance(app.screen, OldKeyScreen)
    for path in tmp_path.rglob("*"):  # never written: workspace, audit log, anywhere
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path


async def test_escape_on_the_old_key_prompt_explains_without_a_restart(env_ref_ws):
    app = workspace_app(env_ref_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, OldKeyScreen) and app.busy is None
        [note] = notifications(app)
        assert VARIABLE in note.message and "file:" in note.message
        assert "restart" not in note.message.lower()
        assert app.last_result is None


async def test_export_playbook_form_writes_the_chosen_format_to_the_chosen_directory(
    tmp_path, quiet_env
):
    ws = make_workspace(tmp_path)
    out = tmp_path / "tickets"
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        app.request("export")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#form-scope", Select).value = "wave"
        app.screen.query_one("#form-format", Select).value = "json"
        app.screen.query_one("#form-directory", Input).value = str(out)
        await pilot.pause()
        await pilot.click("#form-run")
        await settle(app, pilot)
        assert app.last_result is not None, notifications(app)
        assert app.last_result.ok and str(out) in app.last_result.message
    with Workspace.open(ws) as w:
        wave_steps = [s.key for s in w.steps(wave=1)]
    written = sorted(p.name for p in out.iterdir())
    assert all(p.endswith(".json") for p in written) and len(written) == len(wave_steps) + 1
    assert any(STEP in name for name in written)


async def test_revoke_asks_what_and_why_then_confirms_then_revokes(tmp_path, quiet_env):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    ws = make_workspace(tmp_path)
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("i")
        await settle(app, pilot)
        serial = app.snapshot.details[STEP].certificates[0].serial
        app.request("revoke")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#form-reason", Select).value = "keyCompromise"
        await pilot.pause()
        assert app.screen.query_one("#form-target", Select).value == ("serial", serial)
        await pilot.click("#form-run")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"revoke certificate {serial} --reason keyCompromise" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert app.last_result.ok and serial[:16] in app.last_result.message
    with Workspace.open(ws) as w:
        [cert] = [c for c in w.certificates() if c.serial == serial]
        assert cert.status == "revoked" and cert.reason == "keyCompromise"


async def test_80x24_keeps_step_state_verdict_and_the_view_keys(tmp_path, quiet_env):
    ws = make_workspace(tmp_path)
    app = workspace_app(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one(StepsTable)
        shown = table.layout_shown.columns
        assert {"step", "state", "verdict"} <= set(shown) and "API" not in shown
        text = screen_text(app)
        for words in ("1 Plan", "2 Evidence", "3 Audit", "4 Findings"):
            assert words in text
        await select(app, pilot, STEP)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        dialog = app.screen.query_one("#confirm-dialog").region
        assert dialog.right <= 80 and dialog.bottom <= 24
        for button in ("#confirm-yes", "#confirm-no"):
            region = app.screen.query_one(button).region
            assert region.width > 0 and dialog.contains_region(region)
        assert app.check_action("dual", ()) is None  # greyed behind the dialog
        await pilot.press("escape")
        await pilot.pause()
        assert app.check_action("dual", ()) is True  # usable again once answered
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        assert "API" in table.layout_shown.columns  # wider: the dropped column comes back


async def test_render_renew_crl_and_audit_verify_from_the_palette(tmp_path, quiet_env):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    ws = make_workspace(tmp_path)
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("i")
        await settle(app, pilot)
        before = {c.serial for c in app.snapshot.details[STEP].certificates}
        assert len(before) == 4

        app.request("render")
        await settle(app, pilot)
        assert app.last_result.ok, notifications(app)
        assert app.last_result.files and all(
            (ws / "rendered" / STEP) in p.parents for p in map(Path, app.last_result.files)
        )
        assert all(Path(p).is_file() for p in app.last_result.files)

        app.request("renew")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#form-before", Select).value = "all"
        app.screen.query_one("#form-scope", Select).value = "step"
        await pilot.pause()
        await pilot.click("#form-run")
        await settle(app, pilot)
        assert "4 certificate(s) renewed" in app.last_result.message, notifications(app)
        after = {c.serial for c in app.snapshot.details[STEP].certificates}
        assert len(after) == 4 and not after & before

        app.request("crl")
        await settle(app, pilot)
        assert app.last_result.ok and "CRL #" in app.last_result.message
        assert (ws / "crl" / "crl.pem").is_file()

        app.request("audit-verify")
        await settle(app, pilot)
        assert app.last_result.ok and app.last_result.message.startswith("audit OK")
        assert app.query_one("#tabs").active == "audit"
