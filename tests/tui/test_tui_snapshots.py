"""What a person sees (snap_compare). Repeatable: fixed inventory copy, fixed clock, fixed
size, no clock in the header, no certificates (random serials) in any snapshot.

Regenerate after an intended change: pytest tests/tui --snapshot-update
"""

from tui_support import (
    FIXED_NOW,
    SIZE,
    app_inventory,
    evidence_document,
    make_workspace,
    planning_app,
    workspace_app,
)

from workbench.workspace import Workspace


async def _no_blink(pilot) -> None:
    from textual.widgets import Input

    for field in pilot.app.query(Input):
        field.cursor_blink = False


def test_plan_view(snap_compare, tmp_path, quiet_env):
    app, _ = planning_app(app_inventory(tmp_path))
    assert snap_compare(app, terminal_size=SIZE, run_before=_no_blink)


def test_detail_panel_of_an_orphan_key(snap_compare, tmp_path, quiet_env):
    app, plan = planning_app(app_inventory(tmp_path))
    row = [s.key for s in plan.steps].index("legacy-export-key")
    assert snap_compare(app, terminal_size=SIZE, press=["down"] * row, run_before=_no_blink)


def test_evidence_view(snap_compare, tmp_path, quiet_env):
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
    assert snap_compare(app, terminal_size=SIZE, press=["2"], run_before=_no_blink)
