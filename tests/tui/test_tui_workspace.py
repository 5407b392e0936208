"""Pilot tests on a real workspace (made by init_workspace in tmp): actions, errors, modals."""

import pytest
from textual.widgets import Input
from tui_support import (
    PASSPHRASE,
    SIZE,
    make_workspace,
    notifications,
    screen_text,
    settle,
    until,
    workspace_app,
)

from workbench.tui.actions import spoken
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.passphrase import PassphraseScreen
from workbench.tui.widgets.audit import AuditView
from workbench.tui.widgets.detail import StepDetailPanel
from workbench.tui.widgets.steps import StepsTable
from workbench.workspace import Workspace

STEP = "pay-key-prod"  # 4 consumers, second row of the plan


@pytest.fixture
def ws(tmp_path, quiet_env):
    return make_workspace(tmp_path)


async def select(app, pilot, key: str) -> None:
    table = app.query_one(StepsTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    assert app.selected_step == key


def row_of(app, key: str) -> dict:
    return app.query_one(StepsTable).cells_of(key)


async def test_issue_action_issues_certificates(ws, quiet_env):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        assert row_of(app, STEP)["state"] == "planned"
        await pilot.press("i")
        await settle(app, pilot)
        assert app.busy is None
        assert row_of(app, STEP)["state"] == "issued"
        assert app.last_result.ok and "4 new certificate(s)" in app.last_result.message
        detail = app.query_one(StepDetailPanel).detail
        assert sorted(c.service for c in detail.certificates) == sorted(
            ("checkout-web", "mobile-bff", "billing-worker", "refund-worker")
        )
        app.query_one(StepDetailPanel).scroll_end(animate=False)
        await pilot.pause()
        shown = screen_text(app)
        assert all(c.serial[:10] in shown for c in detail.certificates)
        assert "2026-11-27 (in 7d)" in shown  # 7-day lifetime from the injected clock
    with Workspace.open(ws) as w:
        assert w.step(STEP).state == "issued"
        assert len(w.active_certificates(step=STEP, kind="client")) == 4


async def test_domain_error_is_a_one_line_notification(ws, quiet_env):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("c")  # cut over a planned step: its usage check needs a gateway log
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # refused before asking
        errors = [n for n in notifications(app) if n.severity == "error"]
        assert len(errors) == 1, notifications(app)
        message = errors[0].message
        assert "\n" not in message and "Traceback" not in message
        assert errors[0].title == f"cutover --step {STEP} failed"
        assert app.is_running and app.busy is None
        assert row_of(app, STEP)["state"] == "planned"


async def test_cancelled_gateway_change_does_nothing_and_says_so(ws, quiet_env):
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("d")  # gateway set-mode dual: asks first, showing what it does
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        shown = screen_text(app)
        assert f"gateway set-mode dual --step {STEP}" in shown
        assert "Enter presses Cancel" in shown  # what Enter does is written on the dialog
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.busy is None and app.last_result is None
        assert [n.message for n in notifications(app)] == [
            f"gateway set-mode dual --step {STEP} cancelled: nothing changed"
        ]
        assert row_of(app, STEP)["state"] == "planned"


async def test_passphrase_modal_when_env_unset(ws, quiet_env):
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen)
        field = app.screen.query_one(Input)
        assert field.password and app.focused is field
        # A wrong passphrase: one error line, and the app asks again next time.
        await pilot.press(*"nope", "enter")
        await settle(app, pilot)
        assert [n.severity for n in notifications(app)] == ["error"]
        assert row_of(app, STEP)["state"] == "planned"
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen)
        app.screen.query_one(Input).value = PASSPHRASE  # typing 30 keys costs ~2 s
        await pilot.pause()
        assert PASSPHRASE not in screen_text(app)  # a password field echoes nothing
        await pilot.press("enter")
        await settle(app, pilot)
        assert row_of(app, STEP)["state"] == "issued"
        # Asked once: the next CA action does not prompt again.
        await pilot.press("i")
        await pilot.pause()
        assert not isinstance(app.screen, PassphraseScreen)
        await settle(app, pilot)


async def test_escape_on_the_passphrase_prompt_does_nothing(ws, quiet_env):
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, PassphraseScreen)
        assert app.busy is None and not app.workers
        assert row_of(app, STEP)["state"] == "planned"


async def test_command_palette_runs_an_action(ws, quiet_env):
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        titles = [t for t, _, _ in app.palette_commands()]
        wave = app.selected_wave
        for words in (
            f"issue --step {STEP}",
            f"issue --wave {wave}",
            f"render --step {STEP}",
            *(f"gateway set-mode {m} --step {STEP}" for m in ("key", "dual", "mtls", "mtls+token")),
            f"usage --step {STEP}",
            f"cutover --step {STEP}",
            f"verify --step {STEP}",
            f"verify --wave {wave}",
            f"evidence --step {STEP}",
            "export playbook",
            f"revoke --step {STEP}",
            "renew",
            "crl",
            "audit verify",
        ):
            assert words in titles, (words, titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"issue --wave")
        await pilot.pause(0.3)  # the palette searches asynchronously
        await pilot.press("enter")
        await settle(app, pilot)
        with Workspace.open(ws) as w:
            steps = [s.key for s in w.steps(wave=wave)]
            assert {w.step(k).state for k in steps} == {"issued"}
        assert app.last_result.ok and f"wave {wave}" in app.last_result.message


async def test_palette_finds_the_cli_words_as_people_say_them(ws, quiet_env):
    """The footer says "Cut over"; typing that finds `cutover --step` (and "set mode")."""
    from textual.command import CommandList, CommandPalette
    from textual.widgets import Input

    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        palette = app.screen

        async def hits(query: str) -> list[str]:
            palette.query_one(Input).value = query
            hits: list[str] = []

            def settled() -> bool:
                options = palette.query_one(CommandList).options
                hits[:] = [str(o.prompt).split("\n")[0] for o in options]
                return bool(hits) and all(query.split()[0] in spoken(h) for h in hits)

            await until(pilot, settled, f"the hits for {query!r}")
            return hits

        assert f"cutover --step {STEP}" in await hits("cut over")
        assert f"gateway set-mode mtls --step {STEP}" in await hits("set mode mtls")


async def test_audit_view_shows_the_chain_check(ws, quiet_env):
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        view = app.query_one(AuditView)
        with Workspace.open(ws) as w:
            count = len(w.audit_records())
        assert view.summary.ok and view.summary.count == count
        assert view.query_one("#audit-records").row_count == count
        assert "chain OK" in screen_text(app)


async def test_old_key_values_never_reach_the_screen(ws, quiet_env, tmp_path):
    """Req. 11: actions that read the old keys (usage, cut-over) fail here without a gateway;
    neither their notifications nor any view shows a key's value."""
    quiet_env.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    keys = tmp_path / "state" / "keys"
    keys.mkdir(parents=True)
    canary = "CANARYc4n4ryV4lu3-0123456789abcdef"
    for name in ("records-key", STEP):
        path = keys / f"{name}.key"
        path.write_text(canary + "\n")
        path.chmod(0o600)
    app = workspace_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, STEP)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("c")
        await settle(app, pilot)
        messages = [str(n.message) + str(n.title) for n in notifications(app)]
        assert len(messages) == 2 and all("gateway" in m for m in messages), messages
        seen = []
        for tab in ("1", "2", "3", "4"):
            await pilot.press(tab)
            await pilot.pause()
            seen.append(screen_text(app))
        assert not any(canary[:16] in text for text in seen + messages)
