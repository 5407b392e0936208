"""mtls+token on a real gateway: certificate-bound tokens verified by the workspace verifier,
a gateway that stops requiring the token is caught, and renewal names the tokens it breaks."""

import json

import pytest
from migration_support import (
    PASSPHRASE,
    copy_inventory,
    ensure_gateway_available,
    free_port,
    gateway_param,
    pid_alive,
)
from testkit import lab_state

from workbench.cli import main

TOKEN_PROBES = {"cert-without-token", "token-without-cert", "token-with-other-cert"}


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.fixture
def token_env(tmp_path, monkeypatch, request, capsys):
    kind = request.param
    ensure_gateway_available(kind)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    inventory = copy_inventory(tmp_path, free_port())
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    assert main(["init", str(inventory), *w]) == 0
    code, status = _json(capsys, ["sample-env", "up", "--gateway", kind, *w])
    assert code == 0 and status["token_url"]
    try:
        # claims-api accepts only claims-key: once it is cut over, no key is left.
        assert main(["issue", "--step", "claims-key", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "claims-key", *w]) == 0
        assert main(["cutover", "--step", "claims-key", *w]) == 0
        yield ws, w
    finally:
        _json(capsys, ["sample-env", "down", *w])
        for pid in (status["gateway_pid"], status["backend_pid"], status["auth_server_pid"]):
            assert not pid_alive(pid)


@pytest.mark.parametrize(
    "token_env", [gateway_param("python"), gateway_param("nginx")], indirect=True
)
def test_mtls_token_mode_is_verified_with_bound_token_probes(token_env, capsys):
    ws, w = token_env
    code, change = _json(
        capsys, ["gateway", "set-mode", "mtls+token", "--step", "claims-key", "--force", *w]
    )
    assert code == 0 and change["to_mode"] == "mtls+token"
    code, out = _json(capsys, ["verify", "--step", "claims-key", *w])
    probes = {p["name"]: p for p in out["probes"]}
    assert code == 0 and out["verdict"] == "PASS" and out["state"] == "verified", out["reasons"]
    assert set(probes) >= TOKEN_PROBES
    assert all(p["outcome"] == "pass" for p in probes.values())
    assert "bound token" in probes["positive-control"]["evidence"]["identity"]


@pytest.mark.parametrize("token_env", [gateway_param("python")], indirect=True)
def test_a_gateway_that_stops_requiring_the_token_fails(token_env, capsys):
    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import set_step_mode
    from workbench.migration.verification import record, step_job
    from workbench.verify import run_verify

    ws, w = token_env
    assert main(["gateway", "set-mode", "mtls+token", "--step", "claims-key", "--force", *w]) == 0
    with open_campaign(ws) as campaign:
        target, identities = step_job(campaign, "claims-key")  # expects bound tokens
        assert identities.bearer_token is not None
        set_step_mode(campaign, "claims-key", "mtls")  # the token requirement silently dropped
        fingerprint = identities.old_key.fingerprint
        verdict = record(campaign, run_verify(target, identities), old_key_fingerprint=fingerprint)
    assert verdict.verdict == "FAIL"
    failed = {p["name"] for p in verdict.document["probes"] if p["outcome"] == "fail"}
    # Without the token check both go through: the certificate alone, and another authorised
    # consumer's certificate carrying a token bound to someone else.
    assert failed == {"cert-without-token", "token-with-other-cert"}


@pytest.mark.parametrize("token_env", [gateway_param("python")], indirect=True)
def test_renew_names_the_live_tokens_it_invalidates(token_env, capsys):
    ws, w = token_env
    assert main(["gateway", "set-mode", "mtls+token", "--step", "claims-key", "--force", *w]) == 0
    code, out = _json(capsys, ["verify", "--step", "claims-key", *w])  # fetches a bound token
    assert code == 0
    capsys.readouterr()
    assert main(["renew", "--all", "--step", "claims-key", *w]) == 0
    err = capsys.readouterr().err
    events = (lab_state(ws) / "authserver" / "events.log").read_text().splitlines()
    issued = [json.loads(e) for e in events if '"endpoint":"token"' in e and '"status":200' in e]
    assert issued
    assert f"jti={issued[-1]['jti']}" in err and "stops working" in err
