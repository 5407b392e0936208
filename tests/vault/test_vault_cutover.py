"""One cut-over in the sample environment with OpenBao-issued certificates: the gateway
trusts the OpenBao chain for clients, the revoked canaries are on OpenBao's CRL, and the
verifier's PASS includes the foreign-CA and revoked-certificate probes."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from testkit import copy_inventory, ensure_gateway_available, free_port, gateway_param, pid_alive
from vault_support import CLIENT_ROLE, SERVER_ROLE

from workbench.cli import main


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.mark.parametrize("kind", [gateway_param("python"), gateway_param("nginx")])
def test_cutover_passes_with_openbao_certificates(kind, tmp_path, vault_env, capsys):
    ensure_gateway_available(kind)
    port = free_port()
    inventory = copy_inventory(tmp_path, port)
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    init = [
        "init",
        str(inventory),
        *w,
        "--issuer",
        "vault",
        "--vault-mount",
        "pki",
        "--vault-role",
        CLIENT_ROLE,
        "--vault-server-role",
        SERVER_ROLE,
    ]
    assert main(init) == 0
    code, status = _json(capsys, ["sample-env", "up", "--gateway", kind, *w])
    assert code == 0, status
    try:
        root = x509.load_pem_x509_certificate(vault_env.root_pem.encode())
        # The client CA bundle the gateway was started with is the OpenBao chain alone (the
        # PASS below shows it in use: OpenBao's certificate accepted, a foreign CA's refused).
        assert x509.load_pem_x509_certificates((ws / "ca" / "chain.pem").read_bytes()) == [root]
        # The canaries were revoked in OpenBao: its own CRL lists every one of them.
        crl = x509.load_pem_x509_crl(
            vault_env.bao("read", "-field=certificate", "pki/cert/crl").encode()
        )
        on_crl = {e.serial_number for e in crl}
        from workbench.workspace import Workspace

        with Workspace.open(ws) as opened:
            canaries = opened.revoked_certificates()
        assert canaries and all(int(c.serial, 16) in on_crl for c in canaries)

        assert main(["issue", "--step", "pay-key-prod", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w]) == 0
        code, out = _json(capsys, ["cutover", "--step", "pay-key-prod", "--force", *w])
        assert code == 0, out
        assert out["verdict"] == "PASS" and out["state"] == "verified"
        probes = {p["name"]: p for p in out["evidence"]["probes"]}
        for name in ("positive-control", "foreign-ca-cert", "revoked-cert", "other-service-cert"):
            assert probes[name]["outcome"] == "pass", (name, probes[name])
        # The certificates of the step were signed by OpenBao (it stores each one).
        code, st = _json(capsys, ["status", *w])
        certs = [c for s in st["steps"] if s["key"] == "pay-key-prod" for c in s["certificates"]]
        assert certs
        for c in certs:
            padded = c["serial"].zfill(len(c["serial"]) + len(c["serial"]) % 2)
            colon = ":".join(padded[i : i + 2] for i in range(0, len(padded), 2))
            assert vault_env.bao("read", "-field=certificate", f"pki/cert/{colon}")
        assert main(["audit", "verify", *w]) == 0
        # The change ticket carries the PASS measured with OpenBao's certificates.
        out_dir = tmp_path / "playbooks"
        code, written = _json(
            capsys, ["export", "playbook", "--step", "pay-key-prod", "-o", str(out_dir), *w]
        )
        assert code == 0 and written["files"]
        assert any("**PASS**" in p.read_text() for p in out_dir.glob("*.md"))
    finally:
        _json(capsys, ["sample-env", "down", *w])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid), f"process {pid} left behind"


@pytest.mark.parametrize("kind", [gateway_param("python"), gateway_param("nginx")])
def test_local_server_ca_and_bound_tokens_with_openbao_client_certs(
    kind, tmp_path, vault_env, capsys, monkeypatch
):
    """No server role: the gateway's TLS certificate comes from the local server CA, which
    consumers, the verifier and the token client trust, while client certificates (and the
    gateway's client CA bundle) stay OpenBao's; mtls+token then passes with bound tokens."""
    ensure_gateway_available(kind)
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "local-server-ca-passphrase")
    inventory = copy_inventory(tmp_path, free_port())
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    argv = ["init", str(inventory), *w, "--issuer", "vault"]
    assert main([*argv, "--vault-mount", "pki", "--vault-role", CLIENT_ROLE]) == 0
    code, status = _json(capsys, ["sample-env", "up", "--gateway", kind, *w])
    assert code == 0, status
    try:
        root = x509.load_pem_x509_certificate(vault_env.root_pem.encode())
        server_chain = x509.load_pem_x509_certificates(
            (ws / "ca" / "server-ca" / "chain.pem").read_bytes()
        )
        assert root not in server_chain
        from workbench.workspace import Workspace

        with Workspace.open(ws) as opened:
            [server] = opened.active_certificates(kind="server")
        served = x509.load_pem_x509_certificate((ws / server.cert_path).read_bytes())
        served.verify_directly_issued_by(server_chain[0])  # the local server CA signed it
        assert main(["issue", "--step", "claims-key", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "claims-key", *w]) == 0
        code, out = _json(capsys, ["cutover", "--step", "claims-key", "--force", *w])
        assert code == 0 and out["verdict"] == "PASS", out
        code, change = _json(
            capsys, ["gateway", "set-mode", "mtls+token", "--step", "claims-key", "--force", *w]
        )
        assert code == 0 and change["to_mode"] == "mtls+token"
        code, out = _json(capsys, ["verify", "--step", "claims-key", *w])
        assert code == 0 and out["verdict"] == "PASS", out.get("reasons")
        probes = {p["name"]: p for p in out["probes"]}
        for name in ("cert-without-token", "token-without-cert", "foreign-ca-cert"):
            assert probes[name]["outcome"] == "pass", (name, probes[name])
    finally:
        _json(capsys, ["sample-env", "down", *w])
        for pid in (status["gateway_pid"], status["backend_pid"]):
            assert not pid_alive(pid), f"process {pid} left behind"
