"""The revocation-drill slot: figures read from the workspace, or "no drill yet"."""

import json
import shutil

import pytest

import workbench as wb
from workbench.report.document import render
from workbench.report.drills import read_drills


def _drill(path, verdict, finished, points):
    path.write_text(
        json.dumps(
            {"kind": "canary", "finished_at": finished, "verdict": verdict, "entry_points": points}
        )
    )


def test_no_drills_directory_means_no_drill_yet(tmp_path):
    summary = read_drills(tmp_path)
    assert not summary.any and summary.gateways == () and summary.last_verdict is None


def test_drill_times_per_gateway(tmp_path):
    d = tmp_path / "drills"
    d.mkdir()
    _drill(d / "a.json", "PASS", "2026-11-30T10:00:00+00:00", [
        {"gateway": "edge", "url": "https://a", "time_to_refusal_s": 1.0},
        {"gateway": "edge", "url": "https://b", "time_to_refusal_s": 3.0},
        {"gateway": "lab", "url": "https://c", "time_to_refusal_s": 0.5},
    ])  # fmt: skip
    _drill(d / "b.json", "FAIL", "2026-12-01T10:00:00+00:00", [
        {"gateway": "edge", "url": "https://a", "time_to_refusal_s": 2.0},
        {"gateway": "lab", "url": "https://c", "time_to_refusal_s": None},
    ])  # fmt: skip
    (d / "broken.json").write_text("{not json")
    (d / "other.json").write_text(json.dumps({"kind": "canary"}))  # no entry_points
    summary = read_drills(tmp_path)
    assert (summary.drills, summary.passed, summary.skipped_files) == (2, 1, 2)
    assert summary.last_verdict == "FAIL"
    assert summary.last_at.isoformat() == "2026-12-01T10:00:00+00:00"
    by = {g.gateway: g for g in summary.gateways}
    assert (by["edge"].median_s, by["edge"].worst_s, by["edge"].entry_points) == (2.0, 3.0, 3)
    assert (by["lab"].median_s, by["lab"].never_refused) == (0.5, 1)
    assert summary.gateways[0].gateway == "lab"  # a gateway that never refused comes first


@pytest.fixture
def ws_copy(sample_ws, tmp_path):
    """A copy of the rehearsed workspace this test may write drills into."""
    dst = tmp_path / "rehearsal"
    shutil.copytree(sample_ws.parent, dst, symlinks=True)
    return dst / "workspace"


def test_the_report_reads_drills_from_the_workspace(ws_copy):
    with wb.open_campaign(ws_copy) as campaign:
        before = wb.program_report(campaign)
    assert before.figures()["revocation_drills"] == "no drill yet"
    assert "No drill yet" in render(before, "md")
    (ws_copy / "drills").mkdir()
    _drill(ws_copy / "drills" / "d.json", "PASS", "2026-12-01T10:00:00+00:00",
           [{"gateway": "lab", "url": "https://x", "time_to_refusal_s": 1.25}])  # fmt: skip
    with wb.open_campaign(ws_copy) as campaign:
        after = wb.program_report(campaign)
    figures = after.figures()["revocation_drills"]
    assert figures["drills"] == 1
    assert figures["gateways"][0]["median_time_to_refusal_s"] == 1.25
    assert "No drill yet" not in render(after, "md")
