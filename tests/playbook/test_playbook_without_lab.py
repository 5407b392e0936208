"""Read-only commands never need the lab or a gateway (issue: export failed on an inventory
whose APIs use several ports). The inventory here spreads its APIs over two hosts and three
ports (no lab could serve it), its old keys' files do not exist and their variables are unset:
a planning session with no production secrets and nothing running."""

import json
import re
from datetime import UTC, datetime

import pytest
from testkit import SAMPLE

from workbench.cli import main
from workbench.workspace import Workspace

PASSPHRASE = "test-passphrase-not-secret"
HOSTS = ("https://127.0.0.1:9501", "https://127.0.0.1:9502", "https://pay.eu.example.test:9503")


@pytest.fixture
def spread_workspace(tmp_path, monkeypatch):
    text = SAMPLE.read_text()
    urls = iter(range(1000))
    text = re.sub(
        r"url: https://127\.0\.0\.1:8443", lambda m: f"url: {HOSTS[next(urls) % 3]}", text
    )
    assert all(h in text for h in HOSTS)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(text)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    for name in re.findall(r"secret_ref: env:(\w+)", text):
        monkeypatch.delenv(name, raising=False)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    assert main(["issue", "--wave", "1", "--workspace", str(ws)]) == 0
    assert not (tmp_path / "state").exists()  # the keys' files were never made
    return ws


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else captured.err


@pytest.mark.parametrize("fmt", ["md", "json", "yaml", "csv"])
def test_export_playbook_needs_no_lab_and_no_key_values(spread_workspace, tmp_path, capsys, fmt):
    out = tmp_path / "pb"
    code, written = _json(
        capsys,
        ["export", "playbook", "--all", "--format", fmt, "-o", str(out), "--workspace",
         str(spread_workspace)],
    )  # fmt: skip
    assert code == 0, written
    assert written["files"]
    if fmt == "md":
        ticket = next(out.glob("wave-01-pay-key-prod.md")).read_text()
        assert "no usage data yet" in ticket
        assert "pay.eu.example.test" in ticket or "127.0.0.1" in ticket
    if fmt == "json":
        doc = json.loads(next(out.glob("wave-01-pay-key-prod.json")).read_text())
        assert doc["prechecks"]["usage"]["status"] == "no data"


def test_status_and_evidence_need_no_lab(spread_workspace, capsys):
    w = ["--workspace", str(spread_workspace)]
    code, status = _json(capsys, ["status", *w])
    assert code == 0 and {s["key"] for s in status["steps"]} >= {"pay-key-prod"}
    code, err = _json(capsys, ["evidence", "--step", "pay-key-prod", *w])
    assert code == 2 and "no recorded verification" in err
    now = datetime.now(UTC)
    with Workspace.open(spread_workspace) as ws:
        ws.record_verdict(
            "pay-key-prod",
            "FAIL",
            started_at=now,
            finished_at=now,
            old_key_fingerprint="0123456789ab",
            evidence={"verdict": "FAIL", "reasons": ["old key still accepted"], "probes": []},
        )
    code, evidence = _json(capsys, ["evidence", "--step", "pay-key-prod", *w])
    assert code == 0 and evidence["verdict"] == "FAIL"
    code, status = _json(capsys, ["status", *w])
    by_key = {s["key"]: s for s in status["steps"]}
    assert by_key["pay-key-prod"]["latest_verdict"] == "FAIL"
