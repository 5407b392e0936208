"""Drills on operator gateways after the cut-over: real nginx and real HAProxy whose APIs
serve ``mtls`` (the old keys refused, certificates only), not ``dual``. The canary is
authorised, revoked, refused everywhere and taken off again without a trace, the revoke
drill reaches stable refusal, and afterwards every API still serves mtls: the old keys are
still refused and the real consumers' certificates still accepted, checked with requests
of the test's own (urllib), not the drill's prober."""

import json
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
    BILLING_KEY,
    ORDERS_KEY,
    operator_workspace,
)

from workbench.cli import main  # noqa: E402

STEPS = {"orders-key": "shop", "billing-key": "ledger"}


def _urls(port: int) -> dict[str, str]:
    return {
        "orders-api": f"https://127.0.0.1:{port}/orders-api/health",
        "billing-api": f"https://127.0.0.1:{port}/billing/v2/status",
    }


def _assert_mtls_only(ws: Path, port: int, inv: Path) -> None:
    """Every route serves mtls: the state says so, each old key alone is refused at the edge
    and each consumer's certificate is accepted (real requests, not the state)."""
    state = json.loads(owned_files(inv)[1].read_text())
    assert {a: r["mode"] for a, r in state["routes"].items()} == {
        "orders-api": "mtls",
        "billing-api": "mtls",
    }
    ca = ws / "ca" / "chain.pem"
    urls = _urls(port)
    assert call_with_cert(urls["orders-api"], ca, None, None, api_key=ORDERS_KEY) == "401"
    assert call_with_cert(urls["billing-api"], ca, None, None, api_key=BILLING_KEY) == "401"
    for api, service in (("orders-api", "shop"), ("billing-api", "ledger")):
        chain, key, _ = cert_files(ws, service)
        assert call_with_cert(urls[api], ca, chain, key) == "200", (api, service)


@pytest.fixture(params=[pytest.param("nginx", marks=pytest.mark.nginx), "haproxy"])
def cut_over(request, tmp_path, monkeypatch, capsys):
    """An operator gateway whose two APIs were cut over to mtls (cut-over verified)."""
    with operator_workspace(request.param, tmp_path, monkeypatch) as (_op, ws, port, inv):
        w = ["--workspace", str(ws)]
        for step in STEPS:
            assert main(["issue", "--step", step, *w]) == 0
            assert main(["gateway", "set-mode", "dual", "--step", step, *w]) == 0
            code, out = run_json(capsys, ["cutover", "--step", step, "--force", *w])
            assert code == 0 and out["verdict"] == "PASS" and out["state"] == "verified", out
        _assert_mtls_only(ws, port, inv)
        capsys.readouterr()
        yield request.param, ws, port, inv


def _check_canary_report(doc: dict, kind: str, port: int) -> None:
    assert doc["verdict"] == "PASS" and doc["subject"] == CANARY, doc["reasons"]
    # Both APIs serve mtls, so both are chosen: one entry point each, refused.
    assert sorted((e["entry_point"], e["refused"]) for e in doc["entry_points"]) == sorted(
        (u, True) for u in _urls(port).values()
    )
    [gw] = doc["gateways"]
    assert gw["kind"] == kind and gw["crl"]["number"] == doc["crl_number"]
    # The control (same identity, never revoked) was accepted while authorised ...
    assert [set(c["outcomes"]) for c in doc["controls"]] == [{"ACCEPTED"}] * 2
    # ... and refused at both entry points once the authorisation was taken away.
    after = doc["checks"]["control_after_deauthorise"]
    assert len(after) == 2 and all(set(r["outcomes"]) == {"REFUSED"} for r in after)
    assert doc["checks"]["authorisation_left"] == []
    assert doc["checks"]["other_certificates_changed"] == []
    mtls = {"orders-api": "mtls", "billing-api": "mtls"}
    assert doc["checks"]["modes_before"] == doc["checks"]["modes_after"] == mtls


def test_canary_drill_on_an_api_cut_over_to_mtls(cut_over, capsys):
    from workbench.drill import canary_drill, record_drill
    from workbench.migration import open_campaign

    kind, ws, port, inv = cut_over
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    urls = _urls(port)
    before = {p: p.read_bytes() for p in owned_files(inv)}
    assert naming_the_canary(inv) == []

    # Run 1 in process: while the canary is authorised (just before it is taken off) the old
    # keys are still refused: authorising an identity does not bring a key back.
    seen_while_authorised: list[tuple[str, str]] = []
    named_while_authorised: list[str] = []

    def progress(message: str) -> None:
        if message.startswith("taking "):
            # Only recorded here (an assertion would raise inside the drill's clean-up).
            named_while_authorised.extend(naming_the_canary(inv))
            for url, value in (
                (urls["orders-api"], ORDERS_KEY),
                (urls["billing-api"], BILLING_KEY),
            ):
                seen_while_authorised.append(
                    (url, call_with_cert(url, ca, None, None, api_key=value))
                )

    with open_campaign(ws, passphrase=lambda: PASSPHRASE) as campaign:
        report = record_drill(
            campaign.workspace, canary_drill(campaign, deadline=30, progress=progress)
        )
    code, doc = run_json(capsys, ["drill", "show", "--id", str(report.id), *w])
    assert code == 0
    _check_canary_report(doc, kind, port)
    assert named_while_authorised  # the canary was in the owned files then
    assert sorted(seen_while_authorised) == sorted((u, "401") for u in urls.values())
    assert naming_the_canary(inv) == []

    # Run 2 through the CLI, as a schedule would run it.
    code, doc = run_json(capsys, ["drill", "canary", "--deadline", "30", *w])
    assert code == 0, doc["reasons"]
    _check_canary_report(doc, kind, port)
    assert naming_the_canary(inv) == []

    # Nothing left in the owned files; the valid control certificate gets a 403 ...
    assert_no_canary_left(ws, inv, before, list(urls.values()))
    # ... and the API still serves mtls: keys refused, the consumers' certificates accepted.
    _assert_mtls_only(ws, port, inv)
    assert canary_audit(ws) == ["drill.canary_authorise", "drill.canary_deauthorise"] * 2
    assert main(["audit", "verify", *w]) == 0


def test_revoke_drill_on_an_api_cut_over_to_mtls(cut_over, capsys):
    kind, ws, port, inv = cut_over
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    urls = _urls(port)
    chain, key, serial = cert_files(ws, "ledger")
    code, doc = run_json(capsys, ["drill", "revoke", "--service", "ledger", "--deadline", "30", *w])
    assert code == 0, doc["reasons"]
    assert doc["verdict"] == "PASS" and doc["revoked"] == [serial]
    [entry] = doc["entry_points"]
    assert entry["entry_point"] == urls["billing-api"] and entry["gateway"] == "edge"
    assert entry["refused"] and entry["stable_s"] is not None and entry["probes"] >= 2
    [gw] = doc["gateways"]
    assert gw["kind"] == kind and gw["push_s"] > 0 and gw["crl"]["number"] == doc["crl_number"]
    assert doc["checks"]["modes_after"] == {"billing-api": "mtls"}
    # Independently: ledger's revoked certificate is refused, its key too (mtls) ...
    assert call_with_cert(urls["billing-api"], ca, chain, key) not in ("200", "401")
    assert call_with_cert(urls["billing-api"], ca, None, None, api_key=BILLING_KEY) == "401"
    assert call_with_cert(urls["orders-api"], ca, None, None, api_key=ORDERS_KEY) == "401"
    # ... shop's certificate, on the other API of the same gateway, is still accepted.
    shop_chain, shop_key, _ = cert_files(ws, "shop")
    assert call_with_cert(urls["orders-api"], ca, shop_chain, shop_key) == "200"
    state = json.loads(owned_files(inv)[1].read_text())
    assert {r["mode"] for r in state["routes"].values()} == {"mtls"}
    # A replacement certificate for ledger is accepted: still mtls, and the CRL names
    # only the revoked serial.
    assert main(["issue", "--step", "billing-key", *w]) == 0
    _assert_mtls_only(ws, port, inv)
    code, status = run_json(capsys, ["status", *w])
    assert [(c["gateway"], c["state"]) for c in status["crl"]] == [("edge", "ok")]
    assert main(["audit", "verify", *w]) == 0
