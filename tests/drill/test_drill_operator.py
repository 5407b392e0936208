"""Drills on the gateways operators run: real nginx and real HAProxy, each with its own main
config including the workbench's owned file and reloading through the inventory's argv. A
revoked certificate is refused; a reload command that does nothing fails the drill at the
deadline naming the entry point."""

import re
import sys
from pathlib import Path

import pytest
from drill_support import PASSPHRASE, call_with_cert, cert_files, run_json
from testkit import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from operator_support import (  # noqa: E402  (the gateway tests' operator gateways)
    BILLING_KEY,
    Backend,
    OperatorHAProxy,
    OperatorNginx,
    operator_inventory,
)

from workbench.cli import main  # noqa: E402

ORDERS_KEY = "ordersGATEWAYkey-0123456789abcdefABC"


@pytest.fixture(params=[pytest.param("nginx", marks=pytest.mark.nginx), "haproxy"])
def operator(request, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("WBT_BILLING_KEY", BILLING_KEY)
    (tmp_path / "keys").mkdir(mode=0o700)
    key_file = tmp_path / "keys" / "orders.key"
    key_file.write_text(ORDERS_KEY + "\n")
    key_file.chmod(0o600)
    op = (OperatorNginx if request.param == "nginx" else OperatorHAProxy)(tmp_path)
    orders, billing = Backend(), Backend(required_key=BILLING_KEY)
    port = free_port()
    inv = tmp_path / "inventory.yaml"
    inv.write_text(
        operator_inventory(op, port=port, orders_backend=orders.url, billing_backend=billing.url)
    )
    ws = tmp_path / "ws"
    w = ["--workspace", str(ws)]
    try:
        assert main(["init", str(inv), *w]) == 0
        code, out = run_json(capsys, ["gateway", "sync", *w])
        assert code == 0, out
        assert main(["issue", "--step", "orders-key", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "orders-key", *w]) == 0
        capsys.readouterr()
        yield request.param, ws, port, inv
    finally:
        op.stop()
        orders.close()
        billing.close()


def test_revoked_certificate_refused_on_the_operator_gateway(operator, capsys):
    kind, ws, port, _ = operator
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/orders-api/health"
    chain, key, serial = cert_files(ws, "shop")
    assert call_with_cert(url, ca, chain, key) == "200"
    code, doc = run_json(capsys, ["drill", "revoke", "--service", "shop", "--deadline", "30", *w])
    assert code == 0, doc["reasons"]
    assert doc["verdict"] == "PASS" and doc["revoked"] == [serial]
    [entry] = doc["entry_points"]
    assert entry["entry_point"] == url and entry["refused"] and entry["gateway"] == "edge"
    [gw] = doc["gateways"]
    assert gw["kind"] == kind and gw["push_s"] > 0 and gw["crl"]["number"] == doc["crl_number"]
    assert call_with_cert(url, ca, chain, key) != "200"
    code, status = run_json(capsys, ["status", *w])
    assert [(c["gateway"], c["state"]) for c in status["crl"]] == [("edge", "ok")]


def test_reload_that_does_nothing_fails_naming_the_entry_point(operator, capsys):
    kind, ws, port, inv = operator
    w = ["--workspace", str(ws)]
    # The operator's reload command is broken: it succeeds and reloads nothing.
    text = inv.read_text()
    inv.write_text(re.sub(r"reload: \[[^\]]*\]", "reload: [true]", text))
    code, doc = run_json(capsys, ["drill", "revoke", "--service", "shop", "--deadline", "3", *w])
    assert code == 1 and doc["verdict"] == "FAIL", doc["reasons"]
    url = f"https://127.0.0.1:{port}/orders-api/health"
    assert any(url in r and "did not refuse" in r and "ACCEPTED" in r for r in doc["failures"]), (
        doc["reasons"]
    )
    assert any("gateway edge" in r and "push failed" in r for r in doc["failures"])
    [entry] = doc["entry_points"]
    assert not entry["refused"] and entry["probes"] >= 2
