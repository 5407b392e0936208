"""Scanner reports in every shape their tools write (versions, formats, empty runs), through
the CLI: each loads into the right keys and places, or fails in one located line (exit 2).

The fixtures in tests/fixtures/formats/ were written from each tool's own report code
(gitleaks v7 ``scan/leak.go``, ``scan/report.go``, ``scan/sarif.go``; v8 ``report/*.go``)
with fake secrets: ``wbCanaryHunt...`` (fingerprint ``58f81cd0a628``) and ``wbCanaryOther...``.
"""

from __future__ import annotations

import json

import pytest
from formats_support import FIX, HUNT, HUNT_FP, OTHER_FP, PROD, VALUES, keys_of, refused, run_import

from workbench.cli import main
from workbench.errors import ImportReportError
from workbench.inventory.importers._common import parse_json_report
from workbench.inventory.importers.gitleaks import fields_read as gitleaks_fields


@pytest.mark.parametrize(
    ("fixture", "places"),
    [
        # gitleaks 5-7 JSON: lineNumber, offender, rule, file, commit
        ("gitleaks-v7.json", {HUNT_FP: [PROD], OTHER_FP: [VALUES]}),
        # gitleaks 4: no line number
        ("gitleaks-v4.json", {HUNT_FP: ["repo:config/prod.env@0a1b2c3d4e5f"]}),
        # SARIF of gitleaks 8 (secret in the snippet) and 7 (offender; uri is a blob link)
        ("gitleaks-v8.sarif", {HUNT_FP: [PROD], OTHER_FP: [VALUES]}),
        ("gitleaks-v7.sarif", {HUNT_FP: [PROD]}),
        # CSV of gitleaks 8 (a quoted newline in Message) and 7 (no line number)
        ("gitleaks-v8.csv", {HUNT_FP: [PROD], OTHER_FP: [VALUES]}),
        ("gitleaks-v7.csv", {HUNT_FP: ["repo:config/prod.env@0a1b2c3d4e5f"]}),
        # Windows and non-ASCII paths are kept as written
        (
            "gitleaks-windows.json",
            {
                HUNT_FP: [
                    "repo:C:\\Users\\dev\\checkout\\config\\prod.env:3",
                    "repo:services/größe/設定.env:7",
                ]
            },
        ),
    ],
)
def test_every_gitleaks_generation_and_format_reads_the_same_keys(capsys, fixture, places):
    keys = keys_of(run_import(capsys, "gitleaks", FIX / fixture))
    assert {k["fingerprint"]: k["found_in"] for k in keys.values()} == places
    for fp in places:
        key = keys[f"leaked-{fp}"]
        assert key["api"] == "unassigned" and "needs-triage" in key["tags"]
        assert any(t.startswith("gitleaks:") and t != "gitleaks:rule" for t in key["tags"])


def test_gitleaks_7_redacted_report_gives_a_located_key(capsys):
    (key,) = keys_of(run_import(capsys, "gitleaks", FIX / "gitleaks-v7-redacted.json")).values()
    assert key["id"].startswith("located-") and "fingerprint" not in key
    assert key["found_in"] == [PROD]


@pytest.mark.parametrize(
    "fixture", ["gitleaks-zero.json", "gitleaks-null.json", "gitleaks-empty.sarif"]
)
def test_a_gitleaks_run_without_findings_is_an_empty_import(capsys, fixture):
    """8.0-8.4 write a zero-byte file, a nil list encodes as null, SARIF has no results."""
    summary = run_import(capsys, "gitleaks", FIX / fixture)
    assert summary["keys"] == 0 and summary["keys_added"] == 0


def test_all_gitleaks_formats_merge_into_one_key_per_secret(tmp_path, capsys):
    inv = tmp_path / "inv.yaml"
    inv.write_text("version: 1\n")
    for fixture in ("gitleaks-v7.json", "gitleaks-v8.sarif", "gitleaks-v7.csv"):
        argv = ["import", "gitleaks", str(FIX / fixture), "--into", str(inv), "-o", str(inv)]
        assert main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    text = inv.read_text()
    assert "wbCanary" not in text
    assert main(["inventory", "check", str(inv), "--json"]) == 1  # findings: needs triage
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and report["counts"]["keys"] == 2
    assert f"leaked-{HUNT_FP}" in text and f"leaked-{OTHER_FP}" in text
    assert text.count(PROD) == 1 and "repo:config/prod.env@0a1b2c3d4e5f" in text


def test_gitleaks_field_names_in_another_case_read_the_same(tmp_path, capsys):
    report = tmp_path / "lower.json"
    finding = {"ruleid": "generic-api-key", "file": "a.env", "startline": 4, "secret": HUNT}
    report.write_text(json.dumps([finding]))
    (key,) = keys_of(run_import(capsys, "gitleaks", report)).values()
    assert key["fingerprint"] == HUNT_FP and key["found_in"] == ["repo:a.env:4"]
    assert "gitleaks:generic-api-key" in key["tags"]


def test_sarif_of_another_tool_is_named(tmp_path, capsys):
    report = tmp_path / "codeql.sarif"
    doc = json.loads((FIX / "gitleaks-v8.sarif").read_text())
    doc["runs"][0]["tool"]["driver"]["name"] = "CodeQL"
    report.write_text(json.dumps(doc, indent=1))
    line, err = refused(capsys, ["import", "gitleaks", str(report)])
    assert (
        line
        == f"{report}:8:14: this SARIF comes from 'CodeQL', not gitleaks; import a gitleaks report"
    )
    assert err["location"] == f"{report}:8:14"


def test_a_gitleaks_csv_given_to_import_csv_says_which_import(capsys):
    line, _ = refused(capsys, ["import", "csv", str(FIX / "gitleaks-v8.csv")])
    assert line.endswith(":1:1: this is a gitleaks CSV report: use 'workbench import gitleaks'")


# -- JSON is strict JSON: what YAML's flow style would take is a located error -----------

_FINDING = f'{{"RuleID": "x", "File": "a.env", "StartLine": 1, "Secret": "{HUNT}"}}'


@pytest.mark.parametrize(
    ("kind", "text", "where", "message"),
    [
        # the column of the comma itself
        ("gitleaks", f"[{_FINDING},]", f"1:{len(_FINDING) + 2}", "a trailing comma before ']'"),
        (
            "gitleaks",
            f"[{_FINDING[:-1]},}}]",
            f"1:{len(_FINDING) + 1}",
            "a trailing comma before '}'",
        ),
        ("gitleaks", f"// gitleaks\n[{_FINDING}]", "1:1", "a comment: JSON has no comments"),
        ("gitleaks", f"[\n  # one finding\n  {_FINDING}\n]", "2:3", "a comment"),
        ("gitleaks", f"[\n  /* one */ {_FINDING}\n]", "2:3", "a comment"),
        ("gitleaks", "[{\"RuleID\": 'x'}]", "1:13", "JSON syntax error: single quotes"),
        (
            "detect-secrets",
            '{"version": "1.5.0", "results": {},}',
            "1:35",
            "a trailing comma before '}'",
        ),
        (
            "inventory",
            '{\n  "version": 1,\n  "apis": [],\n}\n',
            "3:13",
            "a trailing comma before '}'",
        ),
        ("inventory", '// my inventory\n{"version": 1}\n', "1:1", "a comment"),
        ("inventory", '{\n  # my inventory\n  "version": 1\n}\n', "2:3", "a comment"),
    ],
)
def test_json_that_only_yaml_would_take_is_one_located_error(
    tmp_path, capsys, kind, text, where, message
):
    path = tmp_path / "input.json"
    path.write_text(text)
    argv = ["inventory", "check", str(path)] if kind == "inventory" else ["import", kind, str(path)]
    line, err = refused(capsys, argv)
    assert line.startswith(f"{path}:{where}: {message}"), line
    assert err["location"] == f"{path}:{where}" and err["error"].startswith(message)


def test_a_yaml_flow_mapping_inventory_is_still_yaml(tmp_path, capsys):
    """Bare keys are YAML's flow style, not broken JSON: read as YAML, as before."""
    path = tmp_path / "inv.yaml"
    path.write_text("{version: 1, apis: [], services: [],}\n")
    assert main(["inventory", "check", str(path)]) == 0, capsys.readouterr().err


def test_fields_no_importer_reads_never_reach_the_tree():
    """Memory and req. 11: a 50k-finding report made a 300 MB tree, mostly ``Match`` (the
    line, secret included), ``Message``, ``Description``; now ~100 MB (bench/import_scale)."""
    text = (FIX / "gitleaks-windows.json").read_text()
    tree = parse_json_report(text, "r", "a gitleaks report", only=gitleaks_fields())
    assert [sorted(finding) for finding in tree] == [
        ["Commit", "File", "RuleID", "Secret", "StartLine"]
    ] * 2
    # a duplicate of a field that is read is still refused
    twice = text.replace('"RuleID": "generic-api-key",', '"Secret": "x", "RuleID": "g",', 1)
    with pytest.raises(ImportReportError, match="duplicate key 'Secret'"):
        parse_json_report(twice, "r", "a gitleaks report", only=gitleaks_fields())


def test_a_file_name_that_looks_like_a_secret_is_hidden_not_fatal(capsys):
    """A directory scan meets cache files named by a digest and test data named after a
    key id: before, one of them failed the whole import with no way to fix it."""
    summary = run_import(capsys, "gitleaks", FIX / "gitleaks-dir-scan.json")
    (key,) = keys_of(summary).values()
    assert key["found_in"] == [
        "repo:node_modules/.cache/babel-loader/<hidden>:3",
        "repo:src/test/resources/<hidden>:1",
        "repo:<hidden>",  # the parts pass one by one, the whole does not: all hidden
        "repo:config/prod.env:12",
    ]
    text = json.dumps(summary)
    assert "3f2a9b7c1d4e5f6071" not in text and "AKIAIOSFODNN7EXAMPLE" not in text


@pytest.mark.parametrize(
    ("kind", "text", "where", "message"),
    [
        (
            "gitleaks",
            '<?xml version="1.0"?>\n<testsuites>\n <testsuite name="gitleaks" x="a: b"/>\n',
            "1:1",
            "not the expected report; this is XML (gitleaks -f junit?): expected a JSON array",
        ),
        (
            "detect-secrets",
            "\n  Finding: API_KEY=REDACTED\n  RuleID: generic-api-key\n",
            "2:3",
            "not the expected report: expected a JSON object with 'results'",
        ),
    ],
)
def test_a_report_that_is_not_json_is_named_as_such(tmp_path, capsys, kind, text, where, message):
    """Before, XML gave 'YAML syntax error: mapping values are not allowed; fix the syntax'."""
    path = tmp_path / "report"
    path.write_text(text)
    line, err = refused(capsys, ["import", kind, str(path)])
    assert line.startswith(f"{path}:{where}: {message}"), line
    assert err["location"] == f"{path}:{where}"
