"""The other shapes a company's Vault takes, against a real OpenBao: TLS with VAULT_CACERT
(and the one-line error without it), a namespace (VAULT_NAMESPACE), and a mount issuing
from an intermediate whose root lives in another mount (--vault-root-mount)."""

from __future__ import annotations

import json
import subprocess

from cryptography import x509
from testkit import copy_inventory
from vault_support import CLIENT_ROLE, SERVER_ROLE, OpenBao, readme_policy

from workbench.cli import main

STEP = "pay-key-prod"


def _init(ws, inventory, mount="pki", *extra):
    argv = ["init", str(inventory), "--workspace", str(ws), "--issuer", "vault"]
    argv += ["--vault-mount", mount, "--vault-role", CLIENT_ROLE]
    return main([*argv, "--vault-server-role", SERVER_ROLE, *extra])


def _issue(capsys, ws):
    capsys.readouterr()
    assert main(["issue", "--step", STEP, "--workspace", str(ws), "--json"]) == 0
    return json.loads(capsys.readouterr().out)[0]["certificates"]


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def test_tls_with_vault_cacert(tmp_path, capsys, monkeypatch):
    server = OpenBao(tmp_path / "tls-bao", tls=True)
    try:
        assert server.addr.startswith("https://")
        server.setup_pki("pki")
        monkeypatch.delenv("WORKBENCH_CA_PASSPHRASE", raising=False)
        monkeypatch.delenv("VAULT_NAMESPACE", raising=False)
        monkeypatch.setenv("VAULT_ADDR", server.addr)
        monkeypatch.setenv("VAULT_TOKEN", server.workbench_token("pki"))
        inventory = copy_inventory(tmp_path)
        ws = tmp_path / "ws"
        # Without VAULT_CACERT the dev server's certificate is not trusted: one line, no ws.
        monkeypatch.delenv("VAULT_CACERT", raising=False)
        assert _init(ws, inventory) == 2
        line = _one_line_error(capsys)
        assert "not trusted" in line and "VAULT_CACERT" in line and not ws.exists()
        monkeypatch.setenv("VAULT_CACERT", str(tmp_path / "missing.pem"))
        assert _init(ws, inventory) == 2
        assert "VAULT_CACERT" in _one_line_error(capsys) and not ws.exists()
        monkeypatch.setenv("VAULT_CACERT", str(server.ca_file))
        assert _init(ws, inventory) == 0
        certs = _issue(capsys, ws)
        assert len(certs) >= 2
        assert main(["revoke", "--service", certs[0]["service"], "--workspace", str(ws)]) == 0
    finally:
        server.stop()


def test_namespace(tmp_path, vault_env, capsys, monkeypatch):
    vault_env.bao("namespace", "create", "team-a")
    vault_env.setup_pki("pki", namespace="team-a")
    token = vault_env.workbench_token("pki", namespace="team-a")
    monkeypatch.setenv("VAULT_TOKEN", token)
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    # A forgotten VAULT_NAMESPACE is caught (the unauthenticated chain read would otherwise
    # find the root namespace's CA).
    assert _init(ws, inventory) == 2
    line = _one_line_error(capsys)
    assert "VAULT_NAMESPACE=team-a" in line and not ws.exists()
    monkeypatch.setenv("VAULT_NAMESPACE", "team-a")
    assert _init(ws, inventory) == 0
    config = json.loads((ws / "ca" / "issuer.json").read_text())
    assert config["namespace"] == "team-a"
    ns_root = vault_env.bao("read", "-field=certificate", "pki/cert/ca", namespace="team-a")
    chain = x509.load_pem_x509_certificates((ws / "ca" / "chain.pem").read_bytes())
    assert chain == [x509.load_pem_x509_certificate(ns_root.encode())]
    # Recorded at init: later commands find the namespace without VAULT_NAMESPACE.
    monkeypatch.delenv("VAULT_NAMESPACE")
    certs = _issue(capsys, ws)
    leaf = x509.load_pem_x509_certificate((ws / certs[0]["cert"]).read_bytes())
    leaf.verify_directly_issued_by(chain[0])


def test_intermediate_with_root_in_another_mount(tmp_path, vault_env, capsys, monkeypatch):
    bao = vault_env.bao
    bao("secrets", "enable", "-path=corp-root", "pki")
    bao("secrets", "tune", "-max-lease-ttl=87600h", "corp-root")
    root_pem = bao(
        "write", "-field=certificate", "corp-root/root/generate/internal",
        "common_name=Corp Root CA", "key_type=ec", "ttl=87600h",
    )  # fmt: skip
    vault_env.setup_pki("wb-int", root=False)
    csr = tmp_path / "int.csr"
    csr.write_text(
        bao(
            "write",
            "-field=csr",
            "wb-int/intermediate/generate/internal",
            "common_name=Workbench Issuing CA",
            "key_type=ec",
        )  # fmt: skip
    )
    signed = bao(
        "write", "-field=certificate", "corp-root/root/sign-intermediate", f"csr=@{csr}",
        "format=pem", "ttl=43800h", "max_path_length=0",
    )  # fmt: skip
    bundle = tmp_path / "int-bundle.pem"
    bundle.write_text(signed + "\n" + root_pem + "\n")
    bao("write", "wb-int/intermediate/set-signed", f"certificate=@{bundle}")
    policy = readme_policy("wb-int") + 'path "corp-root/crl/pem" { capabilities = ["read"] }\n'
    monkeypatch.setenv("VAULT_TOKEN", vault_env.workbench_token(policy=policy, name="wb-int"))
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]

    assert _init(ws, inventory, "wb-int") == 2
    assert "--vault-root-mount" in _one_line_error(capsys) and not ws.exists()
    assert _init(ws, inventory, "wb-int", "--vault-root-mount", "corp-root") == 0
    root = x509.load_pem_x509_certificate(root_pem.encode())
    chain = x509.load_pem_x509_certificates((ws / "ca" / "chain.pem").read_bytes())
    assert len(chain) == 2 and chain[-1] == root
    certs = _issue(capsys, ws)
    assert main(["revoke", "--service", certs[0]["service"], *w]) == 0
    root_file = tmp_path / "root.pem"
    root_file.write_text(root_pem + "\n")
    crls = ws / "crl" / "crl.pem"
    assert crls.read_text().count("BEGIN X509 CRL") == 2  # the intermediate's and the root's

    def verify(cert):
        return subprocess.run(
            ["openssl", "verify", "-purpose", "sslclient", "-crl_check_all", "-CAfile",
             str(root_file), "-untrusted", str(ws / "ca" / "chain.pem"), "-CRLfile", str(crls),
             str(ws / cert["cert"])],
            capture_output=True, text=True,
        )  # fmt: skip

    good, revoked = verify(certs[1]), verify(certs[0])
    assert good.returncode == 0, good.stdout + good.stderr
    assert revoked.returncode != 0 and "revoked" in revoked.stdout + revoked.stderr
