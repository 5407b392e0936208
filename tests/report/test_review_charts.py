"""The cut-over review's pictures stay readable on big workspaces: they say what they leave out."""

from datetime import UTC, datetime, timedelta

from report_support import db_rows

import workbench as wb
from workbench.report.review import (
    CallerUsage,
    CutoverReview,
    ProbeCell,
    StepReview,
    VerdictRun,
    WaveReview,
)
from workbench.report.review_charts import MAX_COLUMNS, MAX_ROWS

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _step(i: int) -> StepReview:
    cells = tuple(
        ProbeCell(p, f"https://127.0.0.1:9443/api-{i}/health", "pass", "HTTP 401")
        for p in ("positive-control", "old-key-only", "no-credentials")
    )
    start = T0 + timedelta(seconds=i)
    run = VerdictRun(i, "PASS", start, start + timedelta(milliseconds=20), cells, ())
    callers = (CallerUsage(f"caller-{i}/1.0", 3, T0 + timedelta(seconds=i)),)
    return StepReview(
        f"key-{i:03d}", 1, f"api-{i}", "verified", ("svc",), T0, (run,), callers, None
    )


def test_big_reviews_are_cut_and_say_so():
    steps = tuple(_step(i) for i in range(MAX_COLUMNS + 25))
    review = CutoverReview("ws", T0, (WaveReview(1, steps),))
    heat = wb.probe_heatmap(steps, "wave 1")
    xlabels = [t.get_text() for t in heat.axes[0].get_xticklabels()]
    assert len(xlabels) == MAX_COLUMNS
    assert f"the first {MAX_COLUMNS} of {len(steps)}" in heat.axes[0].get_title()
    timing = wb.timing_chart(review)
    ylabels = [t.get_text() for t in timing.axes[0].get_yticklabels()]
    assert len(ylabels) == MAX_ROWS and ylabels[-1].startswith(f"w1 key-{len(steps) - 1:03d}")
    usage = wb.usage_chart(review)
    assert len(usage.axes[0].get_yticklabels()) == MAX_ROWS
    assert f"{MAX_ROWS} most recent of {len(steps)}" in usage.axes[0].get_title()


def test_the_review_matches_the_recorded_verdicts(sample_ws):
    with wb.open_campaign(sample_ws) as campaign:
        review = wb.cutover_review(campaign)
    recorded = db_rows(sample_ws, "SELECT id, step_key, verdict FROM verdicts ORDER BY id")
    assert sorted((r.id, s.key, r.verdict) for s, r in review.runs) == recorded
    for _, r in review.runs:
        assert r.cells and {c.probe for c in r.cells} >= {"positive-control", "old-key-only"}
    failed = [s for s in review.steps if s.latest and s.latest.verdict == "FAIL"]
    assert failed and all(s.state == "rolled_back" for s in failed)
    assert review.waves[0].verdict == "FAIL"  # a wave passes only when every step passes
    # the caught FAIL is where the old key was still accepted
    bad = [c for c in failed[0].latest.cells if c.outcome == "fail"]
    assert bad and all(c.probe.startswith("old-key") for c in bad)
    left = {s.key for s in review.left}
    assert left == {
        k for (k,) in db_rows(sample_ws, "SELECT key FROM steps WHERE state!='verified'")
    }
    # every caller that presented an old key during the overlap, per step
    used = [s for s in review.steps if s.callers]
    assert used and all(s.usage_note is None for s in used)
    for s in used:
        assert {c.caller.split("/")[0] for c in s.callers} <= set(s.consumers) | {"records-svc"}
