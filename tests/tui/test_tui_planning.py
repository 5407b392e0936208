"""Pilot tests of the read-only planning view: the table, the detail panel, the views."""

from tui_support import SIZE, app_inventory, planning_app, screen_text, settle, table_rows

from workbench.graph import build_graph
from workbench.inventory import find_findings
from workbench.tui.app import KEY_ACTIONS
from workbench.tui.widgets.detail import StepDetailPanel
from workbench.tui.widgets.findings import FindingsTable
from workbench.tui.widgets.steps import StepsTable


async def test_table_rows_match_the_plan(tmp_path, quiet_env):
    inv = app_inventory(tmp_path)
    app, plan = planning_app(inv)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = table_rows(app.query_one(StepsTable))
    expected = [
        (
            str(plan.wave_of(s.key)),
            s.key,
            s.api,
            str(len(s.consumers)) if s.consumers else "0 (orphan)",
            f"{s.score:.1f}",
            "planned",
            "-",
        )
        for s in plan.steps
    ]
    assert rows == expected
    assert len(rows) == len(inv.keys) == 16


async def test_selecting_a_step_fills_the_detail_panel(tmp_path, quiet_env):
    inv = app_inventory(tmp_path)
    app, plan = planning_app(inv)
    graph = build_graph(inv)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        panel = app.query_one(StepDetailPanel)
        assert panel.detail.key == plan.steps[0].key  # the first step is selected at start
        await pilot.press("down", "down")
        await pilot.pause()
        step = plan.steps[2]
        d = panel.detail
        assert app.selected_step == d.key == step.key
        assert d.reasons == step.reasons and d.score == step.score
        assert [c.service for c in d.consumers] == list(step.consumers)
        for c in d.consumers:
            svc = inv.service(c.service)
            assert (c.owner, c.exposure) == (svc.owner, svc.exposure)
        assert d.blast_services == graph.blast_radius(step.key).services
        assert panel.border_title == f"step {step.key}"
        screen = screen_text(app)
        assert step.reasons[0].factor in screen and f"{step.score:.2f}" in screen


async def test_planning_view_is_read_only(tmp_path, quiet_env):
    app, _ = planning_app(app_inventory(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for action in KEY_ACTIONS:
            assert app.check_action(action, ()) is False  # hidden from the footer
        titles = [t for t, _, _ in app.palette_commands()]
        assert not any("--step" in t or "--wave" in t for t in titles), titles
        assert "issue --step" not in " ".join(titles)
        assert "Show findings" in titles
        await pilot.press("i")
        await pilot.pause()
        assert app.busy is None and not app.workers


async def test_findings_and_audit_views(tmp_path, quiet_env):
    from tui_support import FIXED_NOW

    inv = app_inventory(tmp_path)
    app, _ = planning_app(inv)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await pilot.pause()
        table = app.query_one(FindingsTable)
        findings = find_findings(inv, today=FIXED_NOW.date())
        assert table.row_count == len(findings) > 0
        assert table_rows(table)[0][1] == findings[0].code
        await pilot.press("3")
        await pilot.pause()
        assert "open a workspace" in screen_text(app)


def test_narrow_tables_keep_step_state_verdict_and_cut_long_ids():
    from workbench.tui.snapshot import StepRow
    from workbench.tui.widgets.steps import _fit, choose_columns, natural_widths

    long_id = "a-very-long-key-identifier-that-goes-on-and-on"
    rows = [StepRow(12, long_id, "some-api", ("x",), 50.0, "cut_over", "INCONCLUSIVE")]
    natural = natural_widths(rows)
    assert natural["step"] == 32  # capped: an id never takes the whole line
    wide = choose_columns(natural, 160)
    assert wide.columns == ("wave", "step", "API", "consumers", "score", "state", "verdict")
    narrow = choose_columns(natural, 40)
    assert narrow.columns[:1] == ("step",) and {"state", "verdict"} <= set(narrow.columns)
    assert sum(w + 2 for w in narrow.widths) <= 40
    step_width = narrow.widths[narrow.columns.index("step")]
    cut = _fit(long_id, step_width)
    assert len(cut) == step_width and cut.endswith("…") and long_id.startswith(cut[:-1])
