"""Drills on the gateways operators run: real nginx and real HAProxy, each with its own main
config including the workbench's owned file and reloading through the inventory's argv. A
revoked certificate is refused; a reload command that does nothing fails the drill at the
deadline naming the entry point."""

import re
import sys
from pathlib import Path

import pytest
from drill_support import (
    CANARY,
    PASSPHRASE,
    assert_no_canary_left,
    call_with_cert,
    canary_audit,
    cert_files,
    naming_the_canary,
    owned_files,
    run_json,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from operator_support import (  # noqa: E402  (the gateway tests' operator gateways)
    operator_workspace,
)

from workbench.cli import main  # noqa: E402


@pytest.fixture(params=[pytest.param("nginx", marks=pytest.mark.nginx), "haproxy"])
def operator(request, tmp_path, monkeypatch, capsys):
    with operator_workspace(request.param, tmp_path, monkeypatch) as (_op, ws, port, inv):
        w = ["--workspace", str(ws)]
        assert main(["issue", "--step", "orders-key", *w]) == 0
        assert main(["gateway", "set-mode", "dual", "--step", "orders-key", *w]) == 0
        capsys.readouterr()
        yield request.param, ws, port, inv


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
    code, doc = run_json(capsys, ["drill", "revoke", "--service", "shop", "--deadline", "5", *w])
    assert code == 1 and doc["verdict"] == "FAIL", doc["reasons"]
    url = f"https://127.0.0.1:{port}/orders-api/health"
    assert any(url in r and "did not refuse" in r and "ACCEPTED" in r for r in doc["failures"]), (
        doc["reasons"]
    )
    assert any("gateway edge" in r and "push failed" in r for r in doc["failures"])
    [entry] = doc["entry_points"]
    assert not entry["refused"] and entry["probes"] >= 2


def test_canary_drill_on_the_operator_gateway_leaves_nothing_behind(operator, capsys):
    kind, ws, port, inv = operator
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/orders-api/health"
    before = {p: p.read_bytes() for p in owned_files(inv)}
    assert naming_the_canary(inv) == []
    for _run in (1, 2):  # on a schedule: each run authorises, revokes, de-authorises
        code, doc = run_json(capsys, ["drill", "canary", "--deadline", "30", *w])
        assert code == 0, doc["reasons"]
        assert doc["verdict"] == "PASS" and doc["subject"] == CANARY
        [entry] = doc["entry_points"]  # orders-api is the one API in dual
        assert entry["entry_point"] == url and entry["refused"] and entry["gateway"] == "edge"
        [gw] = doc["gateways"]
        assert gw["kind"] == kind and gw["crl"]["number"] == doc["crl_number"]
        # The control (same identity, never revoked) was accepted while authorised ...
        assert [set(c["outcomes"]) for c in doc["controls"]] == [{"ACCEPTED"}]
        # ... and refused once the authorisation was taken away again.
        after = doc["checks"]["control_after_deauthorise"]
        assert after and all(set(r["outcomes"]) == {"REFUSED"} for r in after)
        assert doc["checks"]["authorisation_left"] == []
        assert doc["checks"]["other_certificates_changed"] == []
        assert naming_the_canary(inv) == []
    # Nothing left in the owned files; the valid control certificate gets a 403 ...
    assert_no_canary_left(ws, inv, before, [url])
    # ... and the consumer's certificate still gets a 200.
    chain, key, _ = cert_files(ws, "shop")
    assert call_with_cert(url, ca, chain, key) == "200"
    assert canary_audit(ws) == ["drill.canary_authorise", "drill.canary_deauthorise"] * 2
    assert main(["audit", "verify", *w]) == 0


def test_canary_fails_naming_the_entry_point_when_the_reload_does_nothing(
    operator, capsys, monkeypatch
):
    _kind, ws, port, inv = operator
    w = ["--workspace", str(ws)]
    # The reload is broken from the start: the canary's authorisation never takes effect.
    monkeypatch.setattr("workbench.gateway.operator.CONFIRM_TIMEOUT", 3.0)
    before = {p: p.read_bytes() for p in owned_files(inv)}
    inv.write_text(re.sub(r"reload: \[[^\]]*\]", "reload: [true]", inv.read_text()))
    code, doc = run_json(capsys, ["drill", "canary", "--deadline", "5", *w])
    assert code == 1 and doc["verdict"] == "FAIL", doc["reasons"]
    url = f"https://127.0.0.1:{port}/orders-api/health"
    assert any(
        r.startswith(url) and "gateway edge" in r and "could not be authorised" in r
        for r in doc["failures"]
    ), doc["reasons"]
    [entry] = doc["entry_points"]
    assert entry["entry_point"] == url and not entry["refused"]
    # The owned files were restored byte for byte; the canary died unused.
    assert {p: p.read_bytes() for p in owned_files(inv)} == before
    assert doc["checks"]["authorisation_left"] == [] and len(doc["revoked"]) == 1
    assert canary_audit(ws) == ["drill.canary_authorise_failed", "drill.canary_deauthorise"]


def test_canary_fails_at_the_deadline_when_the_crl_reload_does_nothing(
    operator, capsys, monkeypatch
):
    """The authorisation takes effect, but the reload that should carry the CRL does
    nothing: the canary is still accepted at the deadline (FAIL naming the entry point),
    and its authorisation is still taken away afterwards."""
    from dataclasses import replace

    from workbench.drill import canary_drill, record_drill
    from workbench.drill import gateways as gws
    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import gateway_for

    _kind, ws, port, inv = operator
    monkeypatch.setattr("workbench.gateway.operator.CONFIRM_TIMEOUT", 3.0)

    def push_with_a_reload_that_does_nothing(campaign, ref):
        handle = gateway_for(campaign, ref.apis[0])
        real = handle.cfg
        handle.cfg = replace(real, reload=("true",))
        try:
            return gws.push_crls(campaign, ref)
        finally:
            handle.cfg = real

    with open_campaign(ws, passphrase=lambda: PASSPHRASE) as campaign:
        report = canary_drill(campaign, deadline=3, push=push_with_a_reload_that_does_nothing)
        report = record_drill(campaign.workspace, report)
    assert report.verdict == "FAIL", report.reasons
    url = f"https://127.0.0.1:{port}/orders-api/health"
    assert any(
        r.startswith(url) and "did not refuse" in r and "ACCEPTED" in r for r in report.failures
    ), report.reasons
    assert report.checks["authorisation_left"] == [] and naming_the_canary(inv) == []
    after = report.checks["control_after_deauthorise"]
    assert after and all(set(r["outcomes"]) == {"REFUSED"} for r in after)
