"""`workbench graph` and `workbench plan` through main([...]), on the real sample inventory."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from workbench.cli import main
from workbench.cli.graph_cmd import FORMATS as CLI_FORMATS
from workbench.graph import FORMATS

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample_env" / "inventory.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_formats_match_the_core():
    assert CLI_FORMATS == FORMATS


def test_graph_default_is_node_link_json(capsys):
    code, out, err = run(capsys, "graph", SAMPLE)
    assert code == 0, err
    g = nx.node_link_graph(json.loads(out), edges="edges")
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert (kinds.count("api"), kinds.count("service"), kinds.count("key")) == (11, 28, 16)
    assert g.has_edge("service:checkout-web", "key:pay-key-prod")
    assert g.has_edge("api:payments-api", "service:payments-svc")


@pytest.mark.parametrize("fmt", ["graphml", "dot", "mermaid"])
def test_graph_formats_to_a_file(capsys, tmp_path, fmt):
    out_file = tmp_path / f"g.{fmt}"
    code, out, err = run(capsys, "graph", SAMPLE, "--format", fmt, "-o", str(out_file))
    assert (code, out, err) == (0, "", "")
    text = out_file.read_text()
    if fmt == "graphml":
        assert nx.read_graphml(io.StringIO(text)).number_of_nodes() == 55
    elif fmt == "dot":
        assert text.startswith("digraph workbench {")
    else:
        assert text.startswith("flowchart LR")


def test_graph_output_into_missing_directory_is_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "graph", SAMPLE, "-o", str(tmp_path / "no" / "g.json"))
    assert code == 2
    assert err.count("\n") == 1 and "does not exist" in err


def test_graph_report_tables(capsys):
    code, out, err = run(capsys, "graph", SAMPLE, "--report", "--top", "3")
    assert code == 0, err
    for title in (
        "Shared keys (10)",
        "Largest blast radii (top 3)",
        "Service dependency cycles (1)",
        "Keys spanning environments (1)",
        "Orphan keys",
        "Services holding 3+ keys",
    ):
        assert title in out, title  # fmt: skip
    assert "notify-svc <-> profile-svc" in out


def test_graph_report_json(capsys):
    code, out, err = run(capsys, "graph", SAMPLE, "--json", "--top", "2", "--busy", "4")
    assert code == 0, err
    d = json.loads(out)
    assert d["counts"] == {"api": 11, "service": 28, "key": 16, "edges": 63}
    assert d["shared_keys"][0] == {
        "key": "profile-key",
        "consumers": ["checkout-web", "mobile-bff", "support-desk", "marketing-mailer",
                      "recommendation-svc", "notify-svc"],
    }  # fmt: skip
    assert [b["key"] for b in d["blast_radii"]] == ["notify-key", "profile-key"]
    assert d["blast_radii"][0]["size"] == 14
    assert d["cycles"] == [["notify-svc", "profile-svc"]]
    assert d["mixed_environment_keys"] == [
        {"key": "analytics-key", "api_environment": "prod",
         "consumer_environments": ["prod", "staging"]}
    ]  # fmt: skip
    assert d["busy_threshold"] == 4
    assert d["busy_services"] == [
        {"service": "checkout-web",
         "keys": ["pay-key-prod", "profile-key", "notify-key", "inventory-key"]}
    ]  # fmt: skip


def test_plan_json_shape(capsys):
    code, out, err = run(capsys, "plan", SAMPLE, "--json", "--today", "2026-11-22")
    assert code == 0, err
    d = json.loads(out)
    assert d["strategy"] == "risk-first" and d["generated_for"] == "2026-11-22"
    assert [len(w["steps"]) for w in d["waves"]] == [5, 5, 5, 1]
    first = d["waves"][0]["steps"][0]
    assert first["key"] == "records-key" and first["api"] == "patient-records-api"
    assert first["consumers"] == ["care-app", "claims-processor", "insurer-portal"]
    assert first["score"] == pytest.approx(sum(r["contribution"] for r in first["reasons"]))
    assert {"factor", "contribution", "detail"} == set(first["reasons"][0])
    keys = [s["key"] for w in d["waves"] for s in w["steps"]]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 16


def test_plan_pilot_first_and_wave_size(capsys):
    code, out, err = run(
        capsys, "plan", SAMPLE, "--json", "--strategy", "pilot-first", "--wave-size", "3",
        "--today", "2026-11-22",
    )  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    wave1 = d["waves"][0]
    assert wave1["pilot"] is True and len(wave1["steps"]) == 2
    # sandbox-key (staging, internal consumers only) is the obvious rehearsal
    assert wave1["steps"][0]["key"] == "sandbox-key"
    assert all(len(w["steps"]) <= 3 for w in d["waves"])


def test_plan_human_table(capsys):
    code, out, err = run(capsys, "plan", SAMPLE, "--today", "2026-11-22")
    assert code == 0, err
    assert out.startswith("16 steps in 4 waves; strategy risk-first, policy default")
    assert "Wave 1" in out and "Wave 4" in out
    assert "records-key" in out and "data +35" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["plan", SAMPLE, "--wave-size", "0"], "must be between 1 and 10000"),
        (["plan", SAMPLE, "--wave-size", "x"], "is not a whole number"),
        (["plan", SAMPLE, "--today", "22/11/2026"], "is not a date"),
        (["plan", SAMPLE, "--strategy", "yolo"], "invalid choice"),
        (["graph", SAMPLE, "--format", "jpeg"], "invalid choice"),
        (["graph", SAMPLE, "--top", "0"], "must be 1 or more"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and needle in err
    assert "Traceback" not in err


def test_bad_policy_is_located_exit_2(capsys, tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("weights: {data: lots}\ndata_classes: {pci: 1}\nexposures: {}\n")
    code, out, err = run(capsys, "plan", SAMPLE, "--policy", str(bad))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"{bad}:1:17: weights.data must be a number >= 0"
    assert all(line.startswith(f"{bad}:") for line in lines)


def test_policy_data_classes_feed_the_inventory_validator(capsys, tmp_path):
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text(
        "weights: {data: 1}\ndata_classes: {pci: 1}\n"
        "exposures: {internet: 1, partner: 1, internal: 1}\n"
    )
    code, _, err = run(capsys, "plan", SAMPLE, "--policy", str(narrow))
    assert code == 2
    assert "pii" in err and "Traceback" not in err


def test_missing_inventory_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "graph", str(tmp_path / "none.yaml"))
    assert code == 2 and "cannot read" in err and "Traceback" not in err


def test_plan_in_a_real_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "plan", SAMPLE, "--json", "--today", "2026-11-22"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["waves"][0]["steps"][0]["key"] == "records-key"
