"""What a person sees (snap_compare), at 80x24 (first-class) and 160x45. Repeatable: fixed
inventory copy, fixed clock, no clock in the header, no cursor blink, no certificates
(random serials) in any snapshot; each waits for the loading worker.

Regenerate after an intended change: pytest tests/tui --snapshot-update
"""

from datetime import UTC, datetime

import pytest
from tui_support import (
    FIXED_NOW,
    app_inventory,
    evidence_document,
    footer_current,
    make_workspace,
    planning_app,
    settle,
    until,
    workspace_app,
)

from workbench.workspace import Workspace

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 45), id="160x45")]


async def _loaded(pilot) -> None:
    """Wait for the loading worker and the footer it refreshes, then stop every cursor
    blinking."""
    from textual.widgets import Input

    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await until(pilot, lambda: footer_current(pilot.app), "the footer's keys as loaded")
    for field in pilot.app.query(Input):
        field.cursor_blink = False


@pytest.mark.parametrize("size", SIZES)
def test_plan_view(snap_compare, tmp_path, quiet_env, size):
    app, _ = planning_app(app_inventory(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=_loaded)


@pytest.mark.parametrize("size", SIZES)
def test_detail_panel_of_an_orphan_key(snap_compare, tmp_path, quiet_env, size):
    app, plan = planning_app(app_inventory(tmp_path))
    row = [s.key for s in plan.steps].index("legacy-export-key")

    async def select(pilot) -> None:
        await _loaded(pilot)
        await pilot.press(*["down"] * row)

    assert snap_compare(app, terminal_size=size, run_before=select)


@pytest.mark.parametrize("size", SIZES)
def test_evidence_view(snap_compare, tmp_path, quiet_env, size):
    ws = make_workspace(tmp_path)
    with Workspace.open(ws) as w:
        step = w.plan()["waves"][0]["steps"][0]["key"]  # the first row, selected at start
        doc = evidence_document(step)
        w.record_verdict(
            step,
            "PASS",
            started_at=FIXED_NOW,
            finished_at=FIXED_NOW,
            old_key_fingerprint="0123456789ab",
            evidence=doc,
            now=FIXED_NOW,
        )
    app = workspace_app(ws)

    async def evidence(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("2")

    assert snap_compare(app, terminal_size=size, run_before=evidence)


@pytest.mark.parametrize("size", SIZES)
def test_gateway_change_confirmation(snap_compare, tmp_path, quiet_env, size):
    """What `d` shows before it changes anything: the change in words, and what Enter does."""
    app = workspace_app(make_workspace(tmp_path))

    async def ask(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("d")
        # The check's worker pushes the dialog from the UI thread: wait until all is idle.
        await settle(pilot.app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=ask)


@pytest.mark.parametrize("size", SIZES)
def test_blocked_cutover_choices(snap_compare, tmp_path, quiet_env, size):
    from workbench.tui.checks import BlockedCutover
    from workbench.tui.screens.blocked import BlockedCutoverScreen

    app = workspace_app(make_workspace(tmp_path))
    blocked = BlockedCutover(
        "records-key",
        3,
        datetime(2026, 11, 20, 8, 45, tzinfo=UTC),
        datetime(2026, 11, 20, 8, 59, 12, tzinfo=UTC),
        ("care-app/1.0",),
    )

    async def show(pilot) -> None:
        await _loaded(pilot)
        pilot.app.push_screen(BlockedCutoverScreen(blocked))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=show)
