"""The lab tells the truth (req. 34): one trust domain, the very key values the workbench
probes with, state per workspace, every API on several ports, base and health paths."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from testkit import free_port, lab_state, pid_alive

from workbench.cli import main

PASSPHRASE = "test-passphrase-not-secret"
PROD_KEY = "prodKEYvalue-0123456789abcdefABCDEF"
STAGING_KEY = "stagingKEYvalue-0123456789abcdefXYZ"


def inventory_text(prod: int, staging: int) -> str:
    # No trust_domain; env: references; two ports; a base path that is not /<api-id>;
    # a health path other than /health.
    return f"""version: 1
apis:
  - id: orders-api
    url: https://127.0.0.1:{prod}/v1/orders
    health_path: /healthz
    data_classes: [pii]
    owner: team-orders
    environment: prod
  - id: orders-staging
    url: https://127.0.0.1:{staging}/v1/orders
    health_path: /healthz
    data_classes: [internal]
    owner: team-orders
    environment: staging
services:
  - {{id: shop, owner: team-shop, environment: prod, exposure: internet}}
  - {{id: shop-staging, owner: team-shop, environment: staging, exposure: internal}}
keys:
  - {{id: orders-key, api: orders-api, secret_ref: "env:WBT_ORDERS_KEY"}}
  - {{id: orders-staging-key, api: orders-staging, secret_ref: "env:WBT_ORDERS_STAGING_KEY"}}
integrations:
  - {{consumer: shop, key: orders-key}}
  - {{consumer: shop-staging, key: orders-staging-key}}
"""


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def _get(url: str, ca: Path, *, key: str | None = None, cert=None) -> int:
    ctx = ssl.create_default_context(cafile=str(ca))
    if cert:
        ctx.load_cert_chain(*cert)
    req = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def lab(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("WBT_ORDERS_KEY", PROD_KEY)
    monkeypatch.setenv("WBT_ORDERS_STAGING_KEY", STAGING_KEY)
    prod, staging = free_port(), free_port()
    inv = tmp_path / "inventory.yaml"
    inv.write_text(inventory_text(prod, staging))
    ws = tmp_path / "ws"
    assert main(["init", str(inv), "--workspace", str(ws)]) == 0
    started = []

    def up(workspace: Path):
        code, status = _json(capsys, ["sample-env", "up", "--workspace", str(workspace)])
        assert code == 0, status
        started.append((workspace, status))
        return status

    try:
        yield ws, inv, prod, staging, up
    finally:
        for workspace, status in started:
            _json(capsys, ["sample-env", "down", "--workspace", str(workspace)])
            for g in status["gateways"]:
                assert not pid_alive(g["pid"])


def test_env_refs_default_trust_domain_and_two_ports_give_a_truthful_cutover(lab, capsys):
    ws, _, prod, staging, up = lab
    w = ["--workspace", str(ws)]
    status = up(ws)
    assert sorted(g["port"] for g in status["gateways"]) == sorted([prod, staging])
    assert status["exports"] == []  # both variables are set: used as they are
    ca = ws / "ca" / "chain.pem"
    for port in (prod, staging):
        base = f"https://127.0.0.1:{port}/v1/orders"
        key = PROD_KEY if port == prod else STAGING_KEY
        # The lab accepts exactly the values the workbench resolves from the environment.
        assert _get(base + "/healthz", ca, key=key) == 200
        assert _get(base, ca, key=key) == 200  # the base path answers too
        assert _get(base + "/healthz", ca, key="not-the-value-0123456789") == 401

    # Workspace CA identities (default trust domain) are the ones the lab authorises.
    assert main(["issue", "--step", "orders-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "orders-key", *w]) == 0
    from cryptography import x509

    from workbench.migration import open_campaign

    with open_campaign(ws) as campaign:
        [rec] = campaign.workspace.active_certificates(step="orders-key", kind="client")
    with_cert = (ws / rec.chain_path, ws / rec.key_path)
    leaf = x509.load_pem_x509_certificates(with_cert[0].read_bytes())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    assert uris == ["spiffe://workbench.local/prod/shop"]  # the one default trust domain
    assert _get(f"https://127.0.0.1:{prod}/v1/orders/healthz", ca, cert=with_cert) == 200

    # The rehearsal fault is caught: the value probed is the value the gateway accepts.
    code, out = _json(
        capsys,
        ["cutover", "--step", "orders-key", "--force", "--simulate-fault",
         "old-key-left-enabled", *w],
    )  # fmt: skip
    assert code == 1 and out["verdict"] == "FAIL" and out["rolled_back"], out
    code, out = _json(capsys, ["cutover", "--step", "orders-key", "--force", *w])
    assert code == 0 and out["verdict"] == "PASS", out
    assert _get(f"https://127.0.0.1:{prod}/v1/orders/healthz", ca, key=PROD_KEY) == 401
    # The staging gateway on its own port is untouched.
    assert _get(f"https://127.0.0.1:{staging}/v1/orders/healthz", ca, key=STAGING_KEY) == 200


def test_a_second_workspace_gets_its_own_lab_in_key_mode_with_an_empty_log(lab, tmp_path, capsys):
    ws, inv, prod, _, up = lab
    up(ws)
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "orders-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "orders-key", *w]) == 0
    ca = ws / "ca" / "chain.pem"
    assert _get(f"https://127.0.0.1:{prod}/v1/orders/healthz", ca, key=PROD_KEY) == 200
    assert (lab_state(ws) / "access.log").read_text().strip()
    assert main(["sample-env", "down", *w]) == 0

    ws2 = tmp_path / "ws2"
    assert main(["init", str(inv), "--workspace", str(ws2)]) == 0
    status = up(ws2)
    assert set(status["modes"].values()) == {"key"}
    assert lab_state(ws2) != lab_state(ws)
    log = lab_state(ws2) / "access.log"
    assert not log.exists() or log.read_text() == ""
    code, usage = _json(capsys, ["usage", "--step", "orders-key", "--workspace", str(ws2)])
    assert code == 0 and usage["requests"] == 0


def test_an_unset_env_ref_gets_a_value_and_up_says_what_to_export(lab, monkeypatch, capsys):
    ws, _, prod, _, up = lab
    monkeypatch.delenv("WBT_ORDERS_KEY")
    status = up(ws)
    [(key, var, path)] = [(e["key"], e["variable"], e["file"]) for e in status["exports"]]
    assert (key, var) == ("orders-key", "WBT_ORDERS_KEY")
    assert Path(path).stat().st_mode & 0o077 == 0
    value = Path(path).read_text().strip()
    assert value not in json.dumps(status)  # the value itself is never printed
    capsys.readouterr()
    assert main(["sample-env", "status", "--workspace", str(ws)]) == 0
    out = capsys.readouterr().out
    assert f'export WBT_ORDERS_KEY="$(cat {path})"' in out and value not in out
    ca = ws / "ca" / "chain.pem"
    assert _get(f"https://127.0.0.1:{prod}/v1/orders/healthz", ca, key=value) == 200
    monkeypatch.setenv("WBT_ORDERS_KEY", value)  # as told: the workbench now probes the same
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "orders-key", *w]) == 0
    assert main(["gateway", "set-mode", "dual", "--step", "orders-key", *w]) == 0
    code, out = _json(capsys, ["cutover", "--step", "orders-key", "--force", *w])
    assert code == 0 and out["verdict"] == "PASS", out
