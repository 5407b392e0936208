"""`workbench drill canary` on real gateways: the canary is accepted, revoked, refused
everywhere; no authorisation is left behind; its figures land in the workspace."""

import pytest
from drill_support import GATEWAYS, call_with_cert, run_json

from workbench.cli import main


def _routes_listing(ws, identity):
    from workbench.lab.workspace import lab_env
    from workbench.migration import open_campaign

    with open_campaign(ws) as campaign:
        gws = lab_env(campaign).gateways().values()  # the workspace's lab, one per port
        return [r.api_id for gw in gws for r in gw.spec.routes if identity in r.allowed_identities]


@pytest.mark.parametrize("lab", GATEWAYS, indirect=True)
def test_canary_drill_twice_leaves_no_authorisation(lab, capsys):
    from workbench.drill import drill_figures
    from workbench.workspace import Workspace

    ws, _, port = lab
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/payments-api/health"
    identity = "spiffe://acme.test/drill/workbench-drill-canary"
    for _run in (1, 2):  # scheduled: each run revokes a fresh canary
        code, doc = run_json(capsys, ["drill", "canary", "--deadline", "30", *w])
        assert code == 0, doc["reasons"]
        assert doc["verdict"] == "PASS" and doc["subject"] == identity
        [entry] = doc["entry_points"]
        assert entry["entry_point"] == url and entry["refused"] and entry["stable_s"] > 0
        # The control certificate (same identity, not revoked) was accepted during the drill
        # and is refused once the authorisation is gone.
        assert [set(c["outcomes"]) for c in doc["controls"]] == [{"ACCEPTED"}]
        assert doc["checks"]["authorisation_left"] == []
        after = doc["checks"]["control_after_deauthorise"]
        assert after and all(set(r["outcomes"]) == {"REFUSED"} for r in after)
        assert doc["checks"]["other_certificates_changed"] == []
        assert _routes_listing(ws, identity) == []
    # Independently: the control certificate, valid and unrevoked, is refused (403).
    with Workspace.open(ws) as wsp:
        [control] = wsp.certificates(service="drill-canary-control", status="active")
        revoked = wsp.certificates(service="drill-canary", status="revoked")
        assert len(revoked) == 2
        assert call_with_cert(url, ca, ws / control.chain_path, ws / control.key_path) == "403"
        figures = drill_figures(wsp, kind="canary")
    assert [f["drill_kind"] for f in figures] == ["canary", "canary"]
    for f in figures:
        assert f["gateway"] == "lab" and f["entry_points"] == f["refused"] == 1
        assert 0 < f["median_s"] <= f["worst_s"] and f["push_s"] > 0
    assert main(["audit", "verify", *w]) == 0
    # The program report reads the same figures from the drill tables.
    from workbench.report.drills import read_drills

    with Workspace.open(ws) as wsp:
        summary = read_drills(wsp)
    assert summary.drills == summary.passed == 2 and summary.last_kind == "canary"
    [lab_times] = summary.gateways
    assert lab_times.gateway.startswith("lab") and lab_times.drills == 2
    assert lab_times.never_refused == 0 and 0 < lab_times.median_s <= lab_times.worst_s


@pytest.mark.parametrize("lab", [GATEWAYS[0]], indirect=True)
def test_canary_refuses_an_api_in_key_mode(lab, capsys):
    ws, _, _ = lab
    w = ["--workspace", str(ws)]
    capsys.readouterr()
    assert main(["drill", "canary", "--api", "ledger-api", *w]) == 2
    err = capsys.readouterr().err
    assert "ledger-api serves key mode" in err and len(err.strip().splitlines()) == 1
    assert main(["drill", "canary", "--api", "payments-apx", *w]) == 2
    assert "payments-api" in capsys.readouterr().err
