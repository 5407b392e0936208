"""Each Vault failure gives one line naming the Vault path and what to fix, exit status 2,
no traceback and nothing written; once the cause is fixed a re-run converges. Against a
real OpenBao: unreachable, sealed, a policy without the capability (403), a role refusing
the SPIFFE SAN or the TTL (400), a lifetime capped by the role, an expired token."""

from __future__ import annotations

import hashlib
import json

import pytest
from testkit import copy_inventory, free_port
from vault_support import CLIENT_ROLE, SERVER_ROLE, OpenBao

from workbench.cli import main
from workbench.workspace import Workspace

STEP = "pay-key-prod"


def _init(ws, inventory, mount="pki", role=CLIENT_ROLE):
    argv = ["init", str(inventory), "--workspace", str(ws), "--issuer", "vault"]
    argv += ["--vault-mount", mount, "--vault-role", role, "--vault-server-role", SERVER_ROLE]
    return main(argv)


def _snapshot(ws):
    """Every file but the database (whose pages may move) and the database's facts."""
    files = {
        str(p.relative_to(ws)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in ws.rglob("*")
        if p.is_file() and not p.name.startswith("state.db")
    }
    with Workspace.open(ws) as opened:
        rows = [(c.serial, c.status) for c in opened.certificates()]
        audit = [r.hash for r in opened.audit_records()]
        steps = [(s.key, s.state) for s in opened.steps()]
    return files, rows, audit, steps


def _fails_cleanly(capsys, ws, argv, *expected):
    """Run argv (and its --json form): exit 2, one stderr line holding ``expected``, no
    traceback, the workspace exactly as before."""
    before = _snapshot(ws)
    for extra in ([], ["--json"]):
        capsys.readouterr()
        assert main([*argv, "--workspace", str(ws), *extra]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert "Traceback" not in captured.err and not captured.out.strip()
        message = json.loads(lines[0])["error"] if extra else lines[0]  # --json: JSON on stderr
        for text in expected:
            assert text in message, message
        assert _snapshot(ws) == before
    return message


def _converges(capsys, ws):
    capsys.readouterr()
    assert main(["issue", "--step", STEP, "--workspace", str(ws), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    services = [c["service"] for c in out[0]["certificates"]]
    with Workspace.open(ws) as opened:
        active = [c for c in opened.active_certificates(step=STEP)]
    assert sorted(c.service for c in active) == sorted(services) and len(services) >= 2
    assert main(["audit", "verify", "--workspace", str(ws)]) == 0


@pytest.fixture
def ws(tmp_path, vault_env):
    inventory = copy_inventory(tmp_path)
    path = tmp_path / "ws"
    assert _init(path, inventory) == 0
    return path


def test_unreachable_vault(ws, capsys, monkeypatch, vault_env):
    monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{free_port()}")
    line = _fails_cleanly(
        capsys, ws, ["issue", "--step", STEP], f"/v1/pki/sign/{CLIENT_ROLE}", "unreachable"
    )
    assert "VAULT_ADDR" in line
    monkeypatch.setenv("VAULT_ADDR", vault_env.addr)
    _converges(capsys, ws)
    # Revocation and CRLs go to Vault first: unreachable, the workspace records nothing.
    monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{free_port()}")
    _fails_cleanly(capsys, ws, ["revoke", "--service", "checkout-web"], "/v1/pki/revoke")
    _fails_cleanly(capsys, ws, ["crl"], "/v1/pki/crl/pem", "unreachable")
    monkeypatch.setenv("VAULT_ADDR", vault_env.addr)
    assert main(["revoke", "--service", "checkout-web", "--workspace", str(ws)]) == 0


def test_unreachable_at_init_leaves_no_workspace(tmp_path, vault_env, capsys, monkeypatch):
    monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{free_port()}")
    ws = tmp_path / "ws"
    assert _init(ws, copy_inventory(tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unreachable" in err[0] and "/v1/auth/token/lookup-self" in err[0]
    assert not ws.exists()


def test_policy_without_sign_capability(ws, capsys, monkeypatch, vault_env):
    narrow = 'path "pki/cert/ca_chain" { capabilities = ["read"] }\n'
    token = vault_env.workbench_token("pki", policy=narrow, name="no-sign")
    monkeypatch.setenv("VAULT_TOKEN", token)
    line = _fails_cleanly(
        capsys,
        ws,
        ["issue", "--step", STEP],
        f"/v1/pki/sign/{CLIENT_ROLE}",
        "permission denied by policy",
        '["update"]',
    )
    assert "README" in line
    monkeypatch.setenv("VAULT_TOKEN", vault_env.token)
    _converges(capsys, ws)


def test_expired_token(ws, capsys, monkeypatch, vault_env):
    short = vault_env.bao(
        "token",
        "create",
        "-policy=workbench-pki",
        "-ttl=1s",
        "-explicit-max-ttl=1s",
        "-field=token",
    )

    def expired() -> bool:
        import httpx

        resp = httpx.get(
            f"{vault_env.addr}/v1/auth/token/lookup-self", headers={"X-Vault-Token": short}
        )
        return resp.status_code == 403

    vault_env.wait_until(expired, "the 1 s token did not expire", deadline=15)
    monkeypatch.setenv("VAULT_TOKEN", short)
    _fails_cleanly(
        capsys,
        ws,
        ["issue", "--step", STEP],
        f"/v1/pki/sign/{CLIENT_ROLE}",
        "VAULT_TOKEN is expired",
    )
    monkeypatch.setenv("VAULT_TOKEN", vault_env.token)
    _converges(capsys, ws)


def test_role_refusing_the_spiffe_san(tmp_path, vault_env, capsys, monkeypatch):
    vault_env.bao(
        "write",
        "pki/roles/wrong-domain",
        "client_flag=true",
        "server_flag=false",
        "key_type=any",
        "allow_any_name=true",
        "allowed_uri_sans=spiffe://other.test/*",
        "use_csr_sans=false",
    )
    policy = 'path "pki/sign/wrong-domain" { capabilities = ["update"] }\n'
    policy += 'path "pki/cert/ca_chain" { capabilities = ["read"] }\n'
    monkeypatch.setenv("VAULT_TOKEN", vault_env.workbench_token(policy=policy, name="wrong"))
    ws = tmp_path / "ws"
    assert _init(ws, copy_inventory(tmp_path), role="wrong-domain") == 0
    _fails_cleanly(
        capsys,
        ws,
        ["issue", "--wave", "1"],
        "/v1/pki/sign/wrong-domain",
        "refused",
        "allowed_uri_sans",
    )
    vault_env.bao("patch", "pki/roles/wrong-domain", "allowed_uri_sans=spiffe://acme.test/*")
    _converges(capsys, ws)


def test_ttl_beyond_the_ca_refused_then_a_shorter_lifetime_works(
    tmp_path, vault_env, capsys, monkeypatch
):
    vault_env.setup_pki("shortca", root_ttl="48h")
    monkeypatch.setenv("VAULT_TOKEN", vault_env.workbench_token("shortca"))
    ws = tmp_path / "ws"
    assert _init(ws, copy_inventory(tmp_path), mount="shortca") == 0
    _fails_cleanly(
        capsys,
        ws,
        ["issue", "--step", STEP, "--lifetime", "7d"],
        f"/v1/shortca/sign/{CLIENT_ROLE}",
        "notAfter",
        "--lifetime",
    )
    capsys.readouterr()
    assert main(["issue", "--step", STEP, "--lifetime", "12h", "--workspace", str(ws)]) == 0
    _converges(capsys, ws)


def test_lifetime_capped_by_the_role_is_refused_not_silently_shortened(
    tmp_path, vault_env, capsys, monkeypatch
):
    vault_env.setup_pki("capped", client_max_ttl="24h")
    monkeypatch.setenv("VAULT_TOKEN", vault_env.workbench_token("capped"))
    ws = tmp_path / "ws"
    assert _init(ws, copy_inventory(tmp_path), mount="capped") == 0
    line = _fails_cleanly(
        capsys, ws, ["issue", "--step", STEP, "--lifetime", "7d"], "shortened the lifetime"
    )
    assert "max_ttl" in line and f"capped/sign/{CLIENT_ROLE}" in line
    # The refused certificates were revoked again in OpenBao: none stays valid unrecorded.
    crl = vault_env.bao("read", "-field=certificate", "capped/cert/crl")
    from cryptography import x509

    assert len(list(x509.load_pem_x509_crl(crl.encode()))) >= 2
    assert main(["issue", "--step", STEP, "--lifetime", "12h", "--workspace", str(ws)]) == 0


def test_sealed_vault(tmp_path, capsys, monkeypatch):
    server = OpenBao(tmp_path / "sealed-bao")
    try:
        server.setup_pki("pki")
        monkeypatch.delenv("WORKBENCH_CA_PASSPHRASE", raising=False)
        monkeypatch.setenv("VAULT_ADDR", server.addr)
        monkeypatch.setenv("VAULT_TOKEN", server.workbench_token("pki"))
        ws = tmp_path / "ws"
        assert _init(ws, copy_inventory(tmp_path)) == 0
        server.bao("operator", "seal")
        server.wait_until(lambda: server.health() == 503, "OpenBao did not seal")
        line = _fails_cleanly(
            capsys, ws, ["issue", "--step", STEP], f"/v1/pki/sign/{CLIENT_ROLE}", "sealed"
        )
        assert "unseal" in line
        server.bao("operator", "unseal", server.unseal_key())
        server.wait_until(lambda: server.health() == 200, "OpenBao did not unseal")
        _converges(capsys, ws)
    finally:
        server.stop()


def test_role_that_drops_the_requested_san_is_caught(tmp_path, vault_env, capsys, monkeypatch):
    """Vault's default use_csr_sans=true silently ignores the SANs asked for: the workbench
    refuses such a certificate (and revokes it again) instead of storing an identity-less one."""
    vault_env.bao(
        "write",
        "pki/roles/csr-sans",
        "client_flag=true",
        "server_flag=false",
        "key_type=ec",
        "allow_any_name=true",
        "allowed_uri_sans=spiffe://acme.test/*",
    )
    policy = 'path "pki/sign/csr-sans" { capabilities = ["update"] }\n'
    policy += 'path "pki/revoke" { capabilities = ["update"] }\n'
    policy += 'path "pki/cert/ca_chain" { capabilities = ["read"] }\n'
    monkeypatch.setenv("VAULT_TOKEN", vault_env.workbench_token(policy=policy, name="csr-sans"))
    ws = tmp_path / "ws"
    assert _init(ws, copy_inventory(tmp_path), role="csr-sans") == 0
    before = {e.serial_number for e in _openbao_crl(vault_env)}
    _fails_cleanly(
        capsys, ws, ["issue", "--step", STEP], "/v1/pki/sign/csr-sans", "use_csr_sans=false"
    )
    assert len({e.serial_number for e in _openbao_crl(vault_env)} - before) >= 2


def _openbao_crl(server):
    from cryptography import x509

    return x509.load_pem_x509_crl(server.bao("read", "-field=certificate", "pki/cert/crl").encode())
