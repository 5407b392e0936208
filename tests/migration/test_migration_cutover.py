"""The whole cut-over on a real gateway (Python reference and nginx): dual, usage, cutover
with a PASS, a broken step caught as FAIL and rolled back, and a clean shutdown."""

import json
import ssl
import urllib.request

import pytest
from migration_support import (
    PASSPHRASE,
    copy_inventory,
    ensure_gateway_available,
    free_port,
    gateway_param,
    pid_alive,
)

from workbench.cli import main


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def _call_with_key(url: str, header: str, value: str, ca: str, agent: str) -> int:
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(url, headers={header: value, "User-Agent": agent})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def running_env(tmp_path, monkeypatch, request, capsys):
    kind = request.param
    ensure_gateway_available(kind)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    port = free_port()
    inventory = copy_inventory(tmp_path, port)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    code, status = _json(capsys, ["sample-env", "up", "--gateway", kind, "--workspace", str(ws)])
    assert code == 0 and status["gateway"] == kind
    try:
        yield ws, tmp_path, port, status
    finally:
        _json(capsys, ["sample-env", "down", "--workspace", str(ws)])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid), f"process {pid} left behind"


@pytest.mark.parametrize(
    "running_env", [gateway_param("python"), gateway_param("nginx")], indirect=True
)
def test_cutover_pass_then_caught_fail_and_rollback(running_env, capsys):
    ws, root, port, _ = running_env
    w = ["--workspace", str(ws)]
    ca = str(ws / "ca" / "chain.pem")
    key_value = (root / "state" / "keys" / "pay-key-prod.key").read_text().strip()
    url = f"https://127.0.0.1:{port}/payments-api/health"

    assert _call_with_key(url, "X-API-Key", key_value, ca, "checkout-web/1.0") == 200
    assert main(["issue", "--step", "pay-key-prod", *w]) == 0
    code, change = _json(capsys, ["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w])
    assert code == 0 and change["to_mode"] == "dual"
    assert _call_with_key(url, "X-API-Key", key_value, ca, "checkout-web/1.0") == 200

    # Usage: the old key was just used, so the cut-over is blocked (exit 1).
    code, usage = _json(capsys, ["usage", "--step", "pay-key-prod", *w])
    assert code == 1 and usage["still_used"] and "checkout-web/1.0" in usage["user_agents"]
    assert main(["cutover", "--step", "pay-key-prod", *w]) == 1
    assert "accepted" in capsys.readouterr().err

    # The consumers moved; cut over (forced past the recent use) and verify: PASS.
    code, out = _json(capsys, ["cutover", "--step", "pay-key-prod", "--force", *w])
    assert code == 0, out
    assert out["verdict"] == "PASS" and out["state"] == "verified" and not out["rolled_back"]
    probes = {p["name"]: p for p in out["evidence"]["probes"]}
    assert {
        "positive-control",
        "old-key-only",
        "no-credentials",
        "foreign-ca-cert",
        "revoked-cert",
        "other-service-cert",
    } <= set(probes)
    assert all(p["outcome"] == "pass" for p in probes.values())
    assert _call_with_key(url, "X-API-Key", key_value, ca, "checkout-web/1.0") in (401, 403)
    # fraud-key shares payments-api: its consumers are not broken by this step.
    fraud = (root / "state" / "keys" / "fraud-key.key").read_text().strip()
    assert _call_with_key(url, "X-API-Key", fraud, ca, "fraud-scorer/1.0") == 200

    # A broken change (the key left enabled) is caught as FAIL and rolled back to dual.
    assert main(["issue", "--step", "cards-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *w]) == 0
    code, out = _json(
        capsys, ["cutover", "--step", "cards-key", "--simulate-fault", "old-key-left-enabled", *w]
    )
    assert code == 1 and out["verdict"] == "FAIL" and out["rolled_back"]
    assert out["state"] == "rolled_back"
    declared = [
        p
        for p in out["evidence"]["probes"]
        if p["name"] == "old-key-only" and p["evidence"]["form"] == "header X-API-Key"
    ]
    gets = [p for p in declared if p["evidence"]["method"] == "GET"]
    assert len(declared) == 10 and len(gets) == 5 and all(p["outcome"] == "fail" for p in gets)
    assert not any(p["outcome"] == "pass" for p in declared)
    old_key = declared[0]

    code, status = _json(capsys, ["status", *w])
    by_key = {s["key"]: s for s in status["steps"]}
    assert by_key["pay-key-prod"]["latest_verdict"] == "PASS"
    assert by_key["cards-key"]["latest_verdict"] == "FAIL"
    code, evidence = _json(capsys, ["evidence", "--step", "cards-key", *w])
    assert code == 0 and evidence["verdict"] == "FAIL"
    assert evidence["old_key_fingerprint"] == old_key["evidence"]["identity"].split("fp=")[1]
    for probe in evidence["probes"]:
        assert probe["evidence"]["ip"] == "127.0.0.1" and probe["evidence"]["elapsed_ms"] > 0
    code, runs = _json(capsys, ["evidence", "--step", "pay-key-prod", "--all", *w])
    assert [r["verdict"] for r in runs] == ["PASS"]
    # A consumer signs a private_key_jwt assertion with its workspace key (no --key needed).
    capsys.readouterr()
    assert (
        main(["token", "assertion", "--service", "checkout-web", "--aud", "https://as.test/", *w])
        == 0
    )
    assertion = capsys.readouterr().out.strip()
    assert assertion.count(".") == 2
    code, records = _json(capsys, ["audit", "show", *w])
    actions = [r["action"] for r in records]
    assert actions.count("gateway.change") >= 4 and actions.count("verdict.record") == 2
    assert main(["audit", "verify", *w]) == 0

    # Playbooks carry what was measured: PASS for the verified step, FAIL for the caught one,
    # NOT VERIFIED (and no PASS anywhere) for a step never verified.
    out_dir = root / "playbooks"
    for fmt in ("md", "json", "csv"):
        code, written = _json(
            capsys, ["export", "playbook", "--all", "--format", fmt, "-o", str(out_dir / fmt), *w]
        )
        assert code == 0 and written["files"]
    tickets = {p.stem: json.loads(p.read_text()) for p in (out_dir / "json").glob("wave-*-*.json")}
    md = {p.stem.split("-", 2)[2]: p.read_text() for p in (out_dir / "md").glob("wave-*-*.md")}
    assert "**PASS**" in md["pay-key-prod"] and "NOT VERIFIED" not in md["pay-key-prod"]
    assert "**FAIL**" in md["cards-key"] and "**PASS**" not in md["cards-key"]
    untouched = md["records-key"]
    assert "NOT VERIFIED" in untouched and "PASS" not in untouched
    assert tickets and all(t["schema"] == "workbench.playbook/v2" for t in tickets.values())

    # The old key's value never reaches the workspace, its audit log or any output.
    for path in [*ws.rglob("*"), *out_dir.rglob("*")]:
        if path.is_file():
            assert key_value.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("running_env", [gateway_param("python")], indirect=True)
def test_verify_in_dual_is_not_a_pass_and_step_stays_unverified(running_env, capsys):
    ws, *_ = running_env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--wave", "1", *w]) == 0
    code, status = _json(capsys, ["status", *w])
    wave1 = [s["key"] for s in status["steps"] if s["wave"] == 1]
    assert wave1
    for key in wave1:
        assert main(["gateway", "set-mode", "dual", "--step", key, *w]) == 0
    code, out = _json(capsys, ["verify", "--wave", "1", *w])
    assert code == 1
    assert len(out["steps"]) == len(wave1)
    assert all(s["verdict"] != "PASS" for s in out["steps"])
    assert all(s["state"] == "dual" for s in out["steps"])
