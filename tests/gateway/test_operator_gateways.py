"""The migration on the gateways operators run: real nginx and real HAProxy, each with its own
main config including the workbench's owned file, its own process, reloads through the
inventory's argv. key -> dual -> cutover PASS -> rehearsal fault caught and rolled back;
usage counted from the real access log; failing validate or reload (or a missing binary)
leaves the owned file as it was."""

from __future__ import annotations

import dataclasses
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from operator_support import (
    BILLING_KEY,
    ORDERS_KEY,
    ORDERS_KEY_2,
    operator_workspace,
)

from workbench.cli import main
from workbench.errors import GatewayError


def _json(capsys, argv):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def _get(url: str, ca: Path, *, key: str | None = None, cert=None, agent="test/1") -> tuple:
    ctx = ssl.create_default_context(cafile=str(ca))
    if cert:
        ctx.load_cert_chain(*cert)
    headers = {"User-Agent": agent}
    if key:
        headers["X-API-Key"] = key
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, None


@pytest.fixture(params=[pytest.param("nginx", marks=pytest.mark.nginx), "haproxy"])
def operator_env(request, tmp_path, monkeypatch, capsys):
    with operator_workspace(request.param, tmp_path, monkeypatch) as (op, ws, port, _inv):
        capsys.readouterr()
        yield op, ws, port


def test_key_dual_cutover_pass_and_the_rehearsal_fault_rolled_back(operator_env, capsys):
    op, ws, port = operator_env
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    orders = f"https://127.0.0.1:{port}/orders-api/health"
    billing = f"https://127.0.0.1:{port}/billing/v2/status"
    assert op.owned.stat().st_mode & 0o077 == 0
    assert ORDERS_KEY.encode() not in op.owned.read_bytes()  # values live in the 0600 maps

    # key mode: the gateway checks orders' key, the backend checks billing's.
    assert _get(orders, ca, key=ORDERS_KEY)[0] == 200
    assert _get(orders, ca, key="wrong-value-0123456789abcdef")[0] == 401
    assert _get(billing, ca, key=BILLING_KEY)[0] == 200
    assert _get(billing, ca, key="wrong-value-0123456789abcdef")[0] == 401  # the backend says

    for step in ("orders-key", "billing-key"):
        assert main(["issue", "--step", step, *w]) == 0
        code, change = _json(capsys, ["gateway", "set-mode", "dual", "--step", step, *w])
        assert code == 0 and change["to_mode"] == "dual" and change["gateway"] == "edge", change
    from workbench.migration import open_campaign

    with open_campaign(ws) as campaign:
        certs = {
            c.service: (ws / c.chain_path, ws / c.key_path)
            for c in campaign.workspace.active_certificates(kind="client")
        }
    # dual: a certificate without the key reaches the backend; the key still works.
    status, body = _get(orders, ca, cert=certs["shop"])
    assert status == 200 and body["identity"] == "spiffe://acme.test/prod/shop"
    status, body = _get(billing, ca, cert=certs["ledger"])
    assert status == 200  # the edge presented billing's key to its backend for ledger
    assert _get(orders, ca, key=ORDERS_KEY, agent="shop/1.0")[0] == 200
    assert _get(billing, ca, key=BILLING_KEY, agent="ledger/1.0")[0] == 200

    # usage from the real access log: the old key was just accepted -> exit 1
    code, usage = _json(capsys, ["usage", "--step", "orders-key", *w])
    assert code == 1 and usage["accepted"] >= 2 and "shop/1.0" in usage["user_agents"], usage

    # The rehearsal fault: the key left enabled at cut-over is caught and rolled back.
    code, out = _json(
        capsys,
        ["cutover", "--step", "orders-key", "--force", "--simulate-fault",
         "old-key-left-enabled", *w],
    )  # fmt: skip
    assert code == 1 and out["verdict"] == "FAIL" and out["rolled_back"], out
    assert _get(orders, ca, key=ORDERS_KEY)[0] == 200  # back in dual

    for step, url, key, who in (
        ("orders-key", orders, ORDERS_KEY, "shop"),
        ("billing-key", billing, BILLING_KEY, "ledger"),
    ):
        code, out = _json(capsys, ["cutover", "--step", step, "--force", *w])
        assert code == 0 and out["verdict"] == "PASS" and out["state"] == "verified", out
        assert _get(url, ca, key=key)[0] == 401  # the old key is refused at the edge
        assert _get(url, ca, cert=certs[who])[0] == 200  # the certificate is still served
    code, records = _json(capsys, ["audit", "show", *w])
    assert [r["action"] for r in records].count("gateway.change") >= 6
    assert main(["audit", "verify", *w]) == 0


@pytest.mark.parametrize("kind", [pytest.param("nginx", marks=pytest.mark.nginx), "haproxy"])
def test_a_retired_key_stays_retired_when_the_gateway_is_synced_again(
    kind, tmp_path, monkeypatch, capsys
):
    """An API with two keys: cutting one over retires that key while the API stays dual for
    the other. Re-rendering the gateway from the workbench's state (``gateway sync``, what a
    rebuilt gateway gets) keeps it retired: the state, not the inventory, says which keys a
    route takes (the lab once brought such a key back on restart)."""
    with operator_workspace(kind, tmp_path, monkeypatch, second_orders_key=True) as (
        _op,
        ws,
        port,
        _inv,
    ):
        w = ["--workspace", str(ws)]
        ca = ws / "ca" / "chain.pem"
        orders = f"https://127.0.0.1:{port}/orders-api/health"
        assert _get(orders, ca, key=ORDERS_KEY)[0] == _get(orders, ca, key=ORDERS_KEY_2)[0] == 200
        assert main(["issue", "--step", "orders-key", *w]) == 0
        code, change = _json(capsys, ["gateway", "set-mode", "dual", "--step", "orders-key", *w])
        assert code == 0 and change["to_mode"] == "dual", change
        code, out = _json(capsys, ["cutover", "--step", "orders-key", "--force", *w])
        assert code == 0 and out["verdict"] == "PASS", out
        for _ in range(2):  # after the cut-over, and after the gateway is rendered again
            assert _get(orders, ca, key=ORDERS_KEY)[0] == 401  # retired
            assert _get(orders, ca, key=ORDERS_KEY_2)[0] == 200  # still dual for this one
            code, synced = _json(capsys, ["gateway", "sync", *w])
            assert code == 0 and synced["gateways"] == ["edge"], synced
        assert main(["audit", "verify", *w]) == 0


def _handle(ws: Path, **changes):
    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import gateway_for

    campaign = open_campaign(ws)
    handle = gateway_for(campaign, "orders-api")
    handle.cfg = dataclasses.replace(handle.cfg, **changes)
    return campaign, handle


@pytest.mark.parametrize(
    ("field", "argv", "message"),
    [
        ("validate", ("false",), "validate command `false` exited 1"),
        ("validate", ("/nonexistent/bin/nginx", "-t"), "not found"),
        ("reload", ("false",), "reload command `false` exited 1"),
        ("reload", ("/nonexistent/reload",), "not found"),
        ("reload", ("true",), "did not confirm the new config"),  # a reload that did nothing
    ],
)
def test_a_failing_validate_or_reload_leaves_the_owned_file_as_it_was(
    operator_env, field, argv, message, capsys, monkeypatch
):
    import workbench.gateway.operator as operator

    monkeypatch.setattr(operator, "CONFIRM_TIMEOUT", 2.0)
    op, ws, port = operator_env
    w = ["--workspace", str(ws)]
    assert main(["issue", "--step", "orders-key", *w]) == 0
    before = op.owned.read_bytes()
    keys_before = {p.name: p.read_bytes() for p in op.owned.parent.glob("edge.*.keys/*")}
    campaign, handle = _handle(ws, **{field: argv})
    from workbench.migration.gateway_ops import set_step_mode

    with campaign, pytest.raises(GatewayError) as exc:
        set_step_mode(campaign, "orders-key", "dual")
    assert message in str(exc.value)
    assert op.owned.read_bytes() == before
    assert {p.name: p.read_bytes() for p in op.owned.parent.glob("edge.*.keys/*")} == keys_before
    code, status = _json(capsys, ["status", *w])
    assert {s["key"]: s["state"] for s in status["steps"]}["orders-key"] == "issued"
    code, records = _json(capsys, ["audit", "show", *w])
    failed = [r for r in records if r["action"] == "gateway.change_failed"]
    assert failed and message.split()[0] in json.dumps(failed[-1])
    # the gateway still serves the old config
    ca = ws / "ca" / "chain.pem"
    assert _get(f"https://127.0.0.1:{port}/orders-api/health", ca, key=ORDERS_KEY)[0] == 200
    # and the CLI says it in one line, exit 2
    code = main(["gateway", "set-mode", "dual", "--step", "orders-key", *w])
    assert code == 0  # with the inventory's real commands the same change goes through


def test_no_request_dropped_while_mode_changes_reload_the_gateway(operator_env):
    """A client loop (a fresh TLS connection per request) runs through five mode changes,
    each a real reload of the operator's gateway: every request gets its 200."""
    import threading

    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import gateway_for

    op, ws, port = operator_env
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/orders-api/health"
    results: list = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                results.append(_get(url, ca, key=ORDERS_KEY)[0])
            except OSError as exc:  # refused, reset, TLS error: a dropped request
                results.append(type(exc).__name__)

    with open_campaign(ws) as campaign:
        handle = gateway_for(campaign, "billing-api")
        client = threading.Thread(target=loop)
        client.start()
        try:
            for mode in ("dual", "key", "dual", "key", "dual"):
                # billing-api changes; orders-api keeps taking the key throughout
                handle.change_route("billing-api", mode, ("billing-key",), commit=lambda _: None)
        finally:
            stop.set()
            client.join(timeout=30)
    assert len(results) >= 10, "the client loop ran during the reloads"
    assert set(results) == {200}, {r for r in results if r != 200}
