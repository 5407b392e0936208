"""The revocation-drill slot: time-to-refusal from the drills stored in the workspace, or
"no drill yet"; checked against the drill tables read directly."""

import pytest
from report_support import db_rows

import workbench as wb
from workbench.report.charts import drill_chart
from workbench.report.document import render
from workbench.report.drills import read_drills


def _report(ws):
    with wb.open_campaign(ws) as campaign:
        return wb.program_report(campaign)


def test_a_workspace_without_drills_says_no_drill_yet(team_ws):
    with wb.open_campaign(team_ws) as campaign:
        summary = read_drills(campaign.workspace)
    assert not summary.any and summary.gateways == () and summary.last_verdict is None
    report = _report(team_ws)
    assert report.figures()["revocation_drills"] == "no drill yet"
    assert "No drill yet" in render(report, "md")
    texts = [t.get_text() for t in drill_chart(report).axes[0].texts]
    assert "no drill yet" in texts


def test_drill_figures_are_the_stored_ones(sample_ws):
    runs = db_rows(sample_ws, "SELECT id, kind, verdict FROM drills ORDER BY id")
    gateways = db_rows(
        sample_ws,
        "SELECT drill_id, gateway, server, entry_points, refused, median_s, worst_s "
        "FROM drill_gateways ORDER BY drill_id",
    )
    assert runs and gateways, "the rehearsal ran a canary drill"
    with wb.open_campaign(sample_ws) as campaign:
        summary = read_drills(campaign.workspace)
    assert summary.drills == len(runs)
    assert summary.passed == sum(1 for r in runs if r[2] == "PASS")
    assert (summary.last_kind, summary.last_verdict) == (runs[-1][1], runs[-1][2])
    by = {g.gateway: g for g in summary.gateways}
    latest = gateways[-1]
    mine = by[f"{latest[1]} ({latest[2]})"]
    assert mine.entry_points == latest[3] and mine.never_refused == latest[3] - latest[4]
    assert mine.median_s == pytest.approx(latest[5])
    assert mine.worst_s == pytest.approx(max(g[6] for g in gateways if g[1] == latest[1]))
    figures = _report(sample_ws).figures()["revocation_drills"]
    assert figures["drills"] == len(runs)
    assert figures["gateways"][0]["median_time_to_refusal_s"] == pytest.approx(
        summary.gateways[0].median_s
    )
    md = render(_report(sample_ws), "md")
    assert "No drill yet" not in md and "lab \\(python\\)" in md
