"""Issuing through a real OpenBao PKI mount: a wave, chains checked against OpenBao's root
with openssl and cryptography's verifier, Vault request ids in the audit chain, revocation
found in OpenBao's CRL, renewal, and a workspace that holds no CA key and no token."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store
from testkit import copy_inventory
from vault_support import CLIENT_ROLE, SERVER_ROLE, TRUST_DOMAIN

from workbench.cli import main


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None


def _init(ws, inventory, *extra):
    return main(
        [
            "init",
            str(inventory),
            "--workspace",
            str(ws),
            "--issuer",
            "vault",
            "--vault-mount",
            "pki",
            "--vault-role",
            CLIENT_ROLE,
            *extra,
        ]
    )


@pytest.fixture
def vault_ws(tmp_path, vault_env):
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    assert _init(ws, inventory, "--vault-server-role", SERVER_ROLE) == 0
    return ws


def _openssl_verify(root_file, chain_file, leaf_file, *extra):
    return subprocess.run(
        [
            "openssl",
            "verify",
            "-purpose",
            "sslclient",
            "-CAfile",
            str(root_file),
            "-untrusted",
            str(chain_file),
            *extra,
            str(leaf_file),
        ],
        capture_output=True,
        text=True,
    )


def test_wave_issued_by_openbao_validates_against_its_root(vault_ws, openbao, capsys, tmp_path):
    ws = vault_ws
    w = ["--workspace", str(ws)]
    # The workspace holds the mount's chain (= OpenBao's root here) and no CA key at all.
    root_pem = openbao.bao("read", "-field=certificate", "pki/cert/ca")
    root = x509.load_pem_x509_certificate(root_pem.encode())
    assert x509.load_pem_x509_certificates((ws / "ca" / "chain.pem").read_bytes()) == [root]
    assert not [p for p in (ws / "ca").rglob("*.key")]
    config = json.loads((ws / "ca" / "issuer.json").read_text())
    assert config["mount"] == "pki" and config["role"] == CLIENT_ROLE
    assert config["server_role"] == SERVER_ROLE

    code, out = _json(capsys, ["issue", "--wave", "1", *w])
    assert code == 0, out
    certs = [c for step in out for c in step["certificates"]]
    assert len(certs) >= 3 and all(step["issued"] for step in out)
    root_file = tmp_path / "openbao-root.pem"
    root_file.write_text(root_pem + "\n")
    verifier = PolicyBuilder().store(Store([root])).build_client_verifier()
    for c in certs:
        leaf_path, chain_path, key_path = (ws / c[k] for k in ("cert", "chain", "key"))
        leaf = x509.load_pem_x509_certificate(leaf_path.read_bytes())
        chain = x509.load_pem_x509_certificates(chain_path.read_bytes())
        assert chain[0] == leaf and chain[1:] == [root]
        # openssl, as a client-auth purpose check against OpenBao's root only.
        proc = _openssl_verify(root_file, chain_path, leaf_path)
        assert proc.returncode == 0 and ": OK" in proc.stdout, proc.stderr
        # cryptography's client verifier against the same root.
        verified = verifier.verify(leaf, chain[1:])
        assert verified.subjects is not None
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.UniformResourceIdentifier) == [c["spiffe_id"]]
        assert c["spiffe_id"].startswith(f"spiffe://{TRUST_DOMAIN}/")
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        # The key was made here (0600 in a 0700 directory) and matches the certificate.
        assert stat.S_IMODE(os.lstat(key_path).st_mode) == 0o600
        assert stat.S_IMODE(os.lstat(key_path.parent).st_mode) == 0o700
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert key.public_key() == leaf.public_key()
        # OpenBao itself knows this serial.
        padded = c["serial"].zfill(len(c["serial"]) + len(c["serial"]) % 2)
        colon = ":".join(padded[i : i + 2] for i in range(0, len(padded), 2))
        stored = openbao.bao("read", "-field=certificate", f"pki/cert/{colon}")
        assert x509.load_pem_x509_certificate(stored.encode()) == leaf

    # The audit chain names each serial with Vault's request id, and verifies.
    code, records = _json(capsys, ["audit", "show", *w])
    signs = {r["subject"]: r for r in records if r["action"] == "issuer.sign"}
    for c in certs:
        details = signs[c["serial"]]["details"]
        assert details["path"] == f"/v1/pki/sign/{CLIENT_ROLE}"
        assert len(details["request_id"]) == 36  # a Vault request UUID
    connect = [r for r in records if r["action"] == "issuer.connect"]
    assert len(connect) == 1 and connect[0]["details"]["request_id"]
    assert main(["audit", "verify", *w]) == 0

    # A re-run issues nothing new.
    code, again = _json(capsys, ["issue", "--wave", "1", *w])
    assert code == 0 and not any(step["issued"] for step in again)

    # The token never reaches the workspace.
    for path in ws.rglob("*"):
        if path.is_file():
            assert openbao.token.encode() not in path.read_bytes(), path


def test_revoke_lands_in_openbao_crl_and_renew_replaces(vault_ws, openbao, capsys, tmp_path):
    ws = vault_ws
    w = ["--workspace", str(ws)]
    code, out = _json(capsys, ["issue", "--step", "pay-key-prod", *w])
    assert code == 0
    target = out[0]["certificates"][0]
    code, revoked = _json(capsys, ["revoke", "--service", target["service"], *w])
    assert code == 0 and [c["serial"] for c in revoked["revoked"]] == [target["serial"]]

    # OpenBao's own CRL (fetched independently of the workbench) lists the serial ...
    crl_pem = openbao.bao("read", "-field=certificate", "pki/cert/crl")
    crl = x509.load_pem_x509_crl(crl_pem.encode())
    assert int(target["serial"], 16) in {e.serial_number for e in crl}
    # ... and so does the CRL file the workspace published for its gateways.
    published = x509.load_pem_x509_crl((ws / "crl" / "crl.pem").read_bytes())
    assert int(target["serial"], 16) in {e.serial_number for e in published}
    number = published.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert revoked["crl"]["number"] == number
    root_file = tmp_path / "root.pem"
    root_file.write_bytes((ws / "ca" / "root.crt").read_bytes())
    leaf, chain = ws / target["cert"], ws / target["chain"]
    proc = _openssl_verify(root_file, chain, leaf, "-crl_check", "-CRLfile", ws / "crl" / "crl.pem")
    assert proc.returncode != 0 and "revoked" in (proc.stdout + proc.stderr)
    code, records = _json(capsys, ["audit", "show", *w])
    revokes = [r for r in records if r["action"] == "issuer.revoke"]
    assert [r["subject"] for r in revokes] == [target["serial"]]
    assert revokes[0]["details"]["request_id"]

    # `crl` republishes from OpenBao; `renew --all` replaces the remaining certificates.
    code, crl_out = _json(capsys, ["crl", *w])
    assert code == 0 and crl_out["number"] >= number
    code, renewed = _json(capsys, ["renew", "--all", *w])
    assert code == 0 and renewed["renewed"]
    for _step, _service, old, new in renewed["renewed"]:
        assert old != new
    assert main(["audit", "verify", *w]) == 0


def test_server_certificate_from_a_local_ca_when_no_server_role(
    tmp_path, vault_env, capsys, monkeypatch
):
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    # Without a server role the local server CA needs a passphrase, and says so.
    assert _init(ws, inventory) == 2
    assert "WORKBENCH_CA_PASSPHRASE" in capsys.readouterr().err
    assert not ws.exists()
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "server-ca-passphrase")
    assert _init(ws, inventory) == 0
    said = capsys.readouterr().out
    assert "local CA" in said and "no --vault-server-role" in said
    from workbench.migration import issue_gateway_certificate, open_campaign

    with open_campaign(ws, passphrase=lambda: "server-ca-passphrase") as campaign:
        record = issue_gateway_certificate(campaign)
        server_ca = campaign.server_ca_file
    leaf = x509.load_pem_x509_certificate((ws / record.cert_path).read_bytes())
    local_root = x509.load_pem_x509_certificate((ws / "ca" / "server-ca" / "root.crt").read_bytes())
    assert server_ca == ws / "ca" / "server-ca" / "chain.pem"
    assert (
        leaf.issuer != x509.load_pem_x509_certificate((ws / "ca" / "root.crt").read_bytes()).subject
    )
    assert leaf.issuer in {
        c.subject for c in x509.load_pem_x509_certificates(server_ca.read_bytes())
    }
    assert local_root.subject == x509.load_pem_x509_certificates(server_ca.read_bytes())[-1].subject
    # The client CA bundle stays OpenBao's chain alone.
    bundle = x509.load_pem_x509_certificates((ws / "ca" / "chain.pem").read_bytes())
    assert [c.subject for c in bundle] == [
        x509.load_pem_x509_certificate(vault_env.root_pem.encode()).subject
    ]
    assert main(["issue", "--step", "pay-key-prod", *w]) == 0
    # Revoking that gateway certificate is the workspace's own business: OpenBao never saw it.
    assert main(["revoke", record.serial, *w]) == 0
    assert main(["crl", *w]) == 0


def test_approle_login_instead_of_a_token(tmp_path, vault_env, monkeypatch, capsys):
    vault_env.bao("auth", "enable", "approle")
    vault_env.bao(
        "write", "auth/approle/role/workbench", "token_policies=workbench-pki", "token_ttl=10m"
    )
    role_id = vault_env.bao("read", "-field=role_id", "auth/approle/role/workbench/role-id")
    secret_id = vault_env.bao(
        "write", "-f", "-field=secret_id", "auth/approle/role/workbench/secret-id"
    )
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("VAULT_ROLE_ID", role_id)
    monkeypatch.setenv("VAULT_SECRET_ID", secret_id)
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    assert _init(ws, inventory, "--vault-server-role", SERVER_ROLE) == 0
    code, out = _json(capsys, ["issue", "--step", "pay-key-prod", "--workspace", str(ws)])
    assert code == 0 and out[0]["issued"]
    for path in ws.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret_id.encode() not in data and role_id.encode() not in data, path


def test_tui_source_issues_through_openbao(vault_ws, openbao):
    """The TUI's step actions call the same core: issuing from it goes through OpenBao, with
    progress reported, and its snapshot shows the certificates."""
    from workbench.tui.source import WorkspaceSource

    seen = []
    source = WorkspaceSource(vault_ws)
    result = source.run(
        "issue", "pay-key-prod", passphrase=lambda: None, progress=lambda d, t: seen.append((d, t))
    )
    assert "new certificate" in result.message and seen and seen[-1][0] == seen[-1][1]
    snapshot = source.load()
    assert snapshot is not None
    from workbench.workspace import Workspace

    with Workspace.open(vault_ws) as ws:
        certs = ws.active_certificates(step="pay-key-prod")
    root = x509.load_pem_x509_certificate(openbao.root_pem.encode())
    for c in certs:
        leaf = x509.load_pem_x509_certificate((vault_ws / c.cert_path).read_bytes())
        leaf.verify_directly_issued_by(root)
