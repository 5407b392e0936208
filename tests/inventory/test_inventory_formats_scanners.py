"""trufflehog (2, 3.0-3.13, 3.15+, SARIF) and detect-secrets (0.8, 0.11, 0.14, 1.5) reports
as each version writes them, through the CLI: the right keys, places and tags, or one line.

Fixtures in tests/fixtures/formats/, written from trufflehog's ``pkg/output/*.go`` and
``source_metadata.pb.go`` and detect-secrets' ``secrets_collection.py`` of each version.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from formats_support import (
    FIX,
    HUNT,
    HUNT_FP,
    OTHER,
    OTHER_FP,
    PROD,
    keys_of,
    refused,
    run_import,
)

SHA1_FP = "sha1:" + hashlib.sha1(HUNT.encode()).hexdigest()[:12]  # noqa: S324 - as the tool
SHA1_OTHER = "sha1:" + hashlib.sha1(OTHER.encode()).hexdigest()[:12]  # noqa: S324


def test_trufflehog_3_sources_each_name_their_place(capsys):
    """Git/Github/Gitlab as gitleaks names files; a bucket, image or project in front of the
    file elsewhere (GCS says ``filename``); JSON log lines of ``2>&1`` skipped; a duplicate
    finding one place."""
    keys = keys_of(run_import(capsys, "trufflehog", FIX / "trufflehog-v3-sources.jsonl"))
    hunt = keys[f"leaked-{HUNT_FP}"]
    assert hunt["found_in"] == [
        PROD,
        "docker:acme/checkout:1.2:/app/.env",
        "s3:acme-configs:prod/app.env",
        "gcs:acme-backups:prod/x.env",
        "filesystem:C:\\Users\\dev\\app\\.env:2",
        "filesystem:/srv/größe/設定.env",
        "jenkins:deploy",
        "stdin:?",
    ]
    assert "trufflehog:generic" in hunt["tags"] and "verified" not in hunt["tags"]
    other = keys[f"leaked-{OTHER_FP}"]
    assert other["found_in"] == ["repo:svc/settings.py:7@0a1b2c3d4e5f"]
    assert {"trufflehog:slack", "verified"} <= set(other["tags"])
    assert len(keys) == 2


def test_a_trufflehog_run_without_findings_is_an_empty_import(capsys, tmp_path):
    """``--json 2>&1`` of a clean scan is log records only; without 2>&1 it is empty."""
    summary = run_import(capsys, "trufflehog", FIX / "trufflehog-v3-no-findings.jsonl")
    assert summary["keys"] == 0
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert run_import(capsys, "trufflehog", empty)["keys"] == 0


def test_trufflehog_before_3_14_wrote_raw_as_base64(capsys):
    """Go's json.Marshal of a []byte: the same secret must give the same key as today."""
    (key,) = keys_of(run_import(capsys, "trufflehog", FIX / "trufflehog-v3.0.jsonl")).values()
    assert key["id"] == f"leaked-{HUNT_FP}" and key["found_in"] == [PROD]


def test_trufflehog_2_and_json_legacy(capsys):
    """``stringsFound`` holds the secrets; ``commit`` is the message, ``commitHash`` the id."""
    keys = keys_of(run_import(capsys, "trufflehog", FIX / "trufflehog-v2.jsonl"))
    assert keys[f"leaked-{HUNT_FP}"]["found_in"] == ["repo:config/prod.env@0a1b2c3d4e5f"]
    assert "trufflehog:high-entropy" in keys[f"leaked-{HUNT_FP}"]["tags"]
    assert keys[f"leaked-{OTHER_FP}"]["found_in"] == ["repo:deploy/values.yaml"]
    assert "trufflehog:slack-token" in keys[f"leaked-{OTHER_FP}"]["tags"]
    assert len(keys) == 2


def test_trufflehog_sarif_gives_located_keys(capsys):
    """trufflehog's SARIF holds no secret: where, which detector, verified or not."""
    keys = keys_of(run_import(capsys, "trufflehog", FIX / "trufflehog.sarif"))
    by_place = {tuple(k["found_in"]): k for k in keys.values()}
    assert set(by_place) == {("repo:config/prod.env:12",), ("elasticsearch:my-cluster",)}
    verified = by_place[("repo:config/prod.env:12",)]
    assert verified["id"].startswith("located-") and "fingerprint" not in verified
    assert "verified" in verified["tags"]
    assert "verified" not in by_place[("elasticsearch:my-cluster",)]["tags"]


def test_trufflehog_given_a_gitleaks_sarif_says_which_import(capsys):
    line, err = refused(capsys, ["import", "trufflehog", str(FIX / "gitleaks-v8.sarif")])
    fix = "this SARIF comes from 'gitleaks', not trufflehog; use 'workbench import gitleaks'"
    assert fix in line
    assert err["location"].endswith(":8:14")


def test_a_trufflehog_line_with_a_trailing_comma_is_located(capsys, tmp_path):
    lines = (FIX / "trufflehog-v3-sources.jsonl").read_text().splitlines()
    lines[3] = lines[3][:-1] + ",}"
    report = tmp_path / "r.jsonl"
    report.write_text("\n".join(lines) + "\n")
    line, _ = refused(capsys, ["import", "trufflehog", str(report)])
    comma = len(lines[3]) - 1
    assert line.startswith(f"{report}:4:{comma}: a trailing comma before " + "'}'")


@pytest.mark.parametrize(
    ("fixture", "places", "tag"),
    [
        # 0.8: no version, findings without filename
        ("detect-secrets-0.8.baseline", ["repo:config/prod.env:12"], "base64-high-entropy-string"),
        # 0.11: exclude_regex; the audited false positive (is_secret false) is left out
        ("detect-secrets-0.11.baseline", ["repo:config/prod.env:12"], "secret-keyword"),
        # 0.14: exclude {files, lines}, word_list
        ("detect-secrets-0.14.baseline", ["repo:config/prod.env:12"], "secret-keyword"),
        # 1.5 on Windows, a non-ASCII file name written as \\u escapes by json.dumps
        (
            "detect-secrets-1.5.baseline",
            ["repo:config\\prod.env:12", "repo:srv/größe/設定.env:2"],
            "secret-keyword",
        ),
    ],
)
def test_every_detect_secrets_baseline_generation(capsys, fixture, places, tag):
    keys = keys_of(run_import(capsys, "detect-secrets", FIX / fixture))
    assert list(keys) == [f"leaked-{SHA1_FP.replace(':', '-')}"]
    (key,) = keys.values()
    assert key["fingerprint"] == SHA1_FP and key["found_in"] == places
    assert f"detect-secrets:{tag}" in key["tags"]
    assert SHA1_OTHER not in json.dumps(keys)  # audited as not a secret


def test_an_empty_baseline_is_an_empty_import(capsys):
    summary = run_import(capsys, "detect-secrets", FIX / "detect-secrets-1.5-empty.baseline")
    assert summary["keys"] == 0


def test_trufflehog_sarif_results_of_another_type_is_located(capsys, tmp_path):
    report = tmp_path / "r.sarif"
    report.write_text('{"runs": [{"tool": {"driver": {"name": "trufflehog"}}, "results": {}}]}')
    line, err = refused(capsys, ["import", "trufflehog", str(report)])
    assert line == f"{report}:1:67: SARIF results must be a list of results"


@pytest.mark.parametrize("kind", ["gitleaks", "detect-secrets"])
@pytest.mark.parametrize("lines", [1, 3])
def test_trufflehog_json_lines_given_to_another_import_says_which(capsys, tmp_path, kind, lines):
    report = tmp_path / "r.jsonl"
    findings = (FIX / "trufflehog-v3-sources.jsonl").read_text().splitlines()[1 : 1 + lines]
    report.write_text("\n".join(findings) + "\n")
    line, _ = refused(capsys, ["import", kind, str(report)])
    assert line.endswith("use 'workbench import trufflehog'"), line
