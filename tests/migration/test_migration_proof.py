"""Issue 9 on a real gateway: a two-sided cut-over proof, honest step states, revoke-only
steps, the health_path refusal and the verifier's own traffic told apart in usage."""

import json
import ssl
import urllib.request

import pytest
from migration_support import (
    PASSPHRASE,
    copy_inventory,
    ensure_gateway_available,
    free_port,
    pid_alive,
)

from workbench.cli import main


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def _call(url: str, key: str, ca: str, agent: str) -> int:
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(url, headers={"X-API-Key": key, "User-Agent": agent})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def env(tmp_path, monkeypatch, request, capsys):
    kind = getattr(request, "param", "python")
    ensure_gateway_available(kind)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    port = free_port()
    inventory = copy_inventory(tmp_path, port)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    code, status, _ = _json(capsys, ["sample-env", "up", "--gateway", kind, "--workspace", str(ws)])
    assert code == 0
    try:
        yield ws, tmp_path, port
    finally:
        _json(capsys, ["sample-env", "down", "--workspace", str(ws)])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid)


def _steps(capsys, w):
    _, status, _ = _json(capsys, ["status", *w])
    return {s["key"]: s for s in status["steps"]}


def _gateway_changes(ws):
    from workbench.workspace import Workspace

    with Workspace.open(ws) as w:
        return len(w.gateway_changes())


def test_cutover_is_two_sided_and_verify_relies_on_the_before_observation(env, capsys):
    ws, root, port = env
    w = ["--workspace", str(ws), "--repeat", "1"]
    wsarg = ["--workspace", str(ws)]
    assert main(["issue", "--step", "cards-key", *wsarg]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *wsarg]) == 0
    code, out, _ = _json(capsys, ["cutover", "--step", "cards-key", "--force", *w])
    assert code == 0 and out["verdict"] == "PASS" and out["state"] == "verified"
    before = out["evidence"]["before"]
    old = next(p for p in out["evidence"]["probes"] if p["name"] == "old-key-only")
    fp = old["evidence"]["identity"].split("fp=")[1]
    assert before["confirmed"] and before["old_key_fingerprint"] == fp
    # Accepted before the change, and a wrong value in the same header refused.
    assert [(p["name"], p["http_status"]) for p in before["probes"]] == [
        ("old-key-live", 200),
        ("wrong-value-live", 401),
    ]
    assert out["evidence"]["liveness"]["confirmed"]
    assert "scope" in out["evidence"] and "1 repeat" in out["evidence"]["scope"]["text"]

    code, again, _ = _json(capsys, ["verify", "--step", "cards-key", *w])
    assert code == 0 and again["verdict"] == "PASS" and again["state"] == "verified"
    assert "relies on the recorded before-observation" in again["liveness"]["how"]
    assert fp in again["liveness"]["how"]
    capsys.readouterr()
    assert main(["verify", "--step", "cards-key", *w]) == 0
    assert "relies on the recorded before-observation" in capsys.readouterr().out


def test_a_key_value_the_gateway_never_accepted_is_an_error_and_changes_nothing(env, capsys):
    ws, root, port = env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "cards-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *w]) == 0
    # The workbench now holds another value than the one the running gateway accepts.
    key_file = root / "state" / "keys" / "cards-key.key"
    key_file.write_text("not-the-live-value-0123456789abcdef\n")
    changes = _gateway_changes(ws)
    code, out, _ = _json(capsys, ["cutover", "--step", "cards-key", "--force", *w])
    assert code == 1 and out["verdict"] == "ERROR" and not out["rolled_back"]
    assert out["state"] == "dual"
    reasons = " ".join(out["evidence"]["reasons"])
    assert "not the one the gateway accepts" in reasons and "nothing was changed" in reasons
    assert _gateway_changes(ws) == changes  # the gateway was never touched
    assert not out["evidence"]["before"]["confirmed"]


def test_verified_step_leaves_verified_on_any_gateway_change_or_non_pass(env, capsys):
    ws, root, port = env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "cards-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *w]) == 0
    assert main(["cutover", "--step", "cards-key", "--force", "--repeat", "1", *w]) == 0
    assert _steps(capsys, w)["cards-key"]["state"] == "verified"

    code, _, err = _json(capsys, ["gateway", "set-mode", "key", "--step", "cards-key", *w])
    assert code == 2 and "--force" in err and "verified" in err
    assert _steps(capsys, w)["cards-key"]["state"] == "verified"

    code, _, _ = _json(capsys, ["gateway", "set-mode", "key", "--step", "cards-key", "--force", *w])
    assert code == 0
    step = _steps(capsys, w)["cards-key"]
    assert step["state"] != "verified"
    code, records, _ = _json(capsys, ["audit", "show", *w])
    regress = [r for r in records if r["action"] == "step.state" and r["subject"] == "cards-key"]
    assert "regressed" in json.dumps(regress[-1])

    code, out, _ = _json(capsys, ["verify", "--step", "cards-key", "--repeat", "1", *w])
    assert code == 1 and out["verdict"] == "FAIL" and out["state"] != "verified"
    assert main(["audit", "verify", *w]) == 0


def test_a_later_failed_verification_moves_a_verified_step_out(env, capsys):
    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import gateway_for

    ws, root, port = env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "cards-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *w]) == 0
    assert main(["cutover", "--step", "cards-key", "--force", "--repeat", "1", *w]) == 0
    # Someone re-enables the key behind the workbench's back (no recorded gateway change).
    with open_campaign(ws) as campaign:
        handle = gateway_for(campaign, "cards-vault-api")
        handle.change_route("cards-vault-api", "dual", ("cards-key",), commit=lambda _sha: None)
    code, out, _ = _json(capsys, ["verify", "--step", "cards-key", "--repeat", "1", *w])
    assert code == 1 and out["verdict"] == "FAIL"
    assert out["state"] == "cut_over"  # no longer verified
    step = _steps(capsys, w)["cards-key"]
    assert step["state"] == "cut_over" and step["latest_verdict"] == "FAIL"


def test_revoke_only_step_is_retired_with_proof(env, capsys):
    ws, root, port = env
    w = ["--workspace", str(ws)]
    # legacy-export-key has no consumers; profile-key's consumers prove the route works.
    code, out, err = _json(capsys, ["cutover", "--step", "legacy-export-key", "--force", *w])
    assert code == 2 and "revoke-only" in err and "profile-key" in err
    assert main(["issue", "--step", "profile-key", *w]) == 0
    code, out, _ = _json(
        capsys, ["cutover", "--step", "legacy-export-key", "--repeat", "1", "--force", *w]
    )
    assert code == 0, out["evidence"]["reasons"]
    assert out["verdict"] == "PASS" and out["state"] == "verified"
    controls = [p for p in out["evidence"]["probes"] if p["name"] == "positive-control"]
    assert len(controls) >= 2  # every authorised consumer of the API is a control
    legacy = (root / "state" / "keys" / "legacy-export-key.key").read_text().strip()
    ca = str(ws / "ca" / "chain.pem")
    url = f"https://127.0.0.1:{port}/customer-profile-api/health"
    assert _call(url, legacy, ca, "old-batch/1") in (401, 403)


def test_verifier_traffic_is_told_apart_by_its_run_token_not_its_user_agent(env, capsys):
    ws, root, port = env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "cards-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *w]) == 0
    # A caught FAIL: the verifier's own probes sent the key (accepted before the change).
    code, out, _ = _json(
        capsys,
        ["cutover", "--step", "cards-key", "--repeat", "1", "--force",
         "--simulate-fault", "old-key-left-enabled", *w],
    )  # fmt: skip
    assert code == 1 and out["rolled_back"]
    token = out["evidence"]["run"]["token"]
    code, usage, _ = _json(capsys, ["usage", "--step", "cards-key", *w])
    assert code == 0 and usage["accepted"] == 0, usage  # only the verifier used the key
    # A caller dressed up as the verifier (its User-Agent, even a real run token) is counted.
    key = (root / "state" / "keys" / "cards-key.key").read_text().strip()
    url = f"https://127.0.0.1:{port}/cards-vault-api/health"
    ca = str(ws / "ca" / "chain.pem")
    assert _call(url, key, ca, "workbench-verify/2") == 200
    assert _call(url, key, ca, f"workbench-verify/2 run/{token}") == 200
    code, usage, _ = _json(capsys, ["usage", "--step", "cards-key", *w])
    assert code == 1 and usage["accepted"] >= 1
    code, _, err = _json(capsys, ["cutover", "--step", "cards-key", *w])
    assert code == 1 and "accepted" in err


def test_api_without_health_path_is_refused_before_any_change(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    inventory = copy_inventory(tmp_path)
    text = inventory.read_text()
    block = text.split("  - id: cards-vault-api", 1)[1].split("\n  - id:", 1)[0]
    inventory.write_text(text.replace(block, block.replace("    health_path: /health\n", "")))
    code, report, _ = _json(capsys, ["inventory", "check", str(inventory)])
    assert code == 1
    assert any(f["code"] == "api-no-health-path" for f in report["findings"])
    capsys.readouterr()
    assert main(["plan", str(inventory)]) == 0
    assert "api-no-health-path" in capsys.readouterr().out
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    code, _, err = _json(capsys, ["cutover", "--step", "cards-key", "--workspace", str(ws)])
    assert code == 2 and "health_path" in err and "cards-vault-api" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _gateway_changes(ws) == 0


def test_verify_without_a_before_observation_is_not_a_pass(env, capsys):
    ws, root, port = env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "cards-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "cards-key", *w]) == 0
    # Cut over by hand (no `cutover`): nobody saw this key value accepted before the change.
    assert main(["gateway", "set-mode", "mtls", "--step", "cards-key", *w]) == 0
    code, out, _ = _json(capsys, ["verify", "--step", "cards-key", "--repeat", "1", *w])
    assert code == 1 and out["verdict"] == "INCONCLUSIVE" and out["state"] == "cut_over"
    assert out["liveness"]["confirmed"] is False
    assert any("no recorded before-observation" in r for r in out["reasons"])
    assert all(p["outcome"] == "pass" for p in out["probes"])  # refused, but unproven live


def test_revoke_only_in_plan_and_tickets(tmp_path, monkeypatch, capsys):
    from testkit import SAMPLE

    capsys.readouterr()
    assert main(["plan", str(SAMPLE)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "legacy-export-key" in x)
    assert "revoke-only" in line
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws)]) == 0
    out_dir = tmp_path / "tickets"
    assert main(["export", "playbook", "--step", "legacy-export-key", "--format", "md",
                 "-o", str(out_dir), "--workspace", str(ws)]) == 0  # fmt: skip
    tickets = [p for p in out_dir.rglob("*.md") if "legacy-export-key" in p.name]
    assert len(tickets) == 1, sorted(p.name for p in out_dir.rglob("*"))
    assert "# Revoke\\-only" in tickets[0].read_text()  # Markdown-escaped title
