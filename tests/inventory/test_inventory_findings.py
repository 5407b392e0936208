"""Findings: risky but legal facts, each with code, severity, subject and location."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from workbench.cli import main
from workbench.inventory import find_findings, load_inventory, loads_inventory
from workbench.inventory.model import Severity

SAMPLE = Path(__file__).resolve().parents[2] / "sample_env" / "inventory.yaml"
TODAY = date(2026, 11, 22)

TEXT = """\
version: 1
apis:
  - {id: prod-api, url: "https://h/p", data_classes: [pii], owner: o, environment: prod}
  - {id: bare-api, url: "https://h/b", data_classes: [], owner: o, environment: prod}
services:
  - {id: a, owner: o, environment: prod, exposure: internal}
  - {id: b, owner: o, environment: prod, exposure: internal}
  - {id: c, owner: o, environment: staging, exposure: internal}
  - {id: p, owner: o, environment: prod, exposure: partner}
  - {id: v, owner: o, environment: prod, exposure: internal, third_party: true}
keys:
  - {id: shared, api: prod-api, last_rotated: 2026-10-01}
  - {id: orphan, api: prod-api, last_rotated: 2026-10-01}
  - {id: never, api: prod-api, created: 2020-01-01}
  - {id: stale, api: prod-api, last_rotated: 2024-01-01}
  - {id: crossenv, api: prod-api, last_rotated: 2026-10-01}
  - {id: partner, api: prod-api, last_rotated: 2026-10-01}
  - {id: vendor, api: prod-api, last_rotated: 2026-10-01}
  - {id: spread, api: prod-api, last_rotated: 2026-10-01, found_in: [repo:a, repo:b, ci:c]}
integrations:
  - {consumer: a, key: shared}
  - {consumer: b, key: shared}
  - {consumer: v, key: shared}
  - {consumer: a, key: never}
  - {consumer: a, key: stale}
  - {consumer: c, key: crossenv}
  - {consumer: p, key: partner}
  - {consumer: v, key: vendor}
  - {consumer: a, key: spread}
  - {consumer: a, key: spread}
"""


def sev_of(findings, code):
    return next(f.severity for f in findings if f.code == code)


def codes(findings, subject):
    return sorted(f.code for f in findings if f.subject == subject)


def test_each_finding_kind():
    inv = loads_inventory(TEXT, "f.yaml")
    found = find_findings(inv, today=TODAY)
    assert codes(found, "shared") == ["key-shared", "key-third-party"]
    assert codes(found, "orphan") == ["key-orphaned"]
    assert codes(found, "never") == ["key-never-rotated"]
    assert codes(found, "stale") == ["key-rotation-stale"]
    assert codes(found, "crossenv") == ["key-spans-environments"]
    assert codes(found, "partner") == ["key-third-party"]
    assert codes(found, "vendor") == ["key-third-party"]
    assert codes(found, "spread") == ["integration-duplicate", "key-widely-found"]
    assert codes(found, "bare-api") == ["api-no-health-path", "api-unclassified"]
    assert sev_of(found, "api-no-health-path") is Severity.HIGH  # cutover would refuse it
    sev = {f.code: f.severity for f in found}
    assert sev["key-spans-environments"] is Severity.HIGH
    assert sev["key-orphaned"] is Severity.WARNING
    assert sev["api-unclassified"] is Severity.INFO
    never = next(f for f in found if f.subject == "never")
    assert (never.location.file, never.location.line) == ("f.yaml", 14)


def test_thresholds_and_today_are_parameters():
    inv = loads_inventory(TEXT, "f.yaml")
    assert "key-shared" not in codes(find_findings(inv, today=TODAY, shared_threshold=4), "shared")
    assert codes(find_findings(inv, today=date(2024, 6, 1)), "stale") == []
    assert "key-widely-found" not in codes(
        find_findings(inv, today=TODAY, found_threshold=4), "spread"
    )


def test_order_is_deterministic_and_by_declaration():
    inv = load_inventory(SAMPLE)
    first = find_findings(inv, today=TODAY)
    assert first == find_findings(inv, today=TODAY)
    lines = [f.location.line for f in first]
    assert lines == sorted(lines)


def test_cli_check_text_and_exit_codes(tmp_path, capsys):
    assert main(["inventory", "check", str(SAMPLE), "--today", "2026-11-22"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{SAMPLE}:196:5: warning: key-rotation-stale: key pay-key-prod")
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        "version: 1\napis:\n  - {id: x, url: 'https://h/', data_classes: [public],"
        " owner: o, environment: prod, health_path: /health}\n"
    )
    assert main(["inventory", "check", str(clean)]) == 0


def test_cli_check_json(capsys):
    assert main(["inventory", "check", str(SAMPLE), "--today", "2026-11-22", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    assert data["counts"]["keys"] == 16
    assert data["counts"]["findings"]["high"] == len(
        [f for f in data["findings"] if f["severity"] == "high"]
    )
    assert data["findings"][0]["location"]["line"] == 196


def test_cli_check_json_on_invalid_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\napis: []\napis: []\n")
    assert main(["inventory", "check", str(bad), "--json"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["valid"] is False and data["problems"][0]["line"] == 3
    err = json.loads(captured.err)  # issue 11.7: with --json, errors are JSON on stderr
    assert err["location"] == f"{bad}:3:1" and err["error"].startswith("duplicate key")


def test_cli_bad_today_is_a_usage_error(capsys):
    try:
        code = main(["inventory", "check", str(SAMPLE), "--today", "soon"])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert "not a date" in capsys.readouterr().err
