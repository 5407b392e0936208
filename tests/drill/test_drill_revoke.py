"""`workbench drill revoke` on real gateways (the Python reference and real nginx): a
revoked certificate is refused at every entry point, a reload that does not pick up the
CRL fails the drill at the deadline naming the entry point, bad input is one line, exit 2."""

import pytest
from drill_support import GATEWAYS, call_with_cert, cert_files, run_json

from workbench.cli import main


@pytest.mark.parametrize("lab", GATEWAYS, indirect=True)
def test_revoked_certificate_refused_everywhere(lab, capsys):
    ws, _, port = lab
    w = ["--workspace", str(ws)]
    ca = ws / "ca" / "chain.pem"
    url = f"https://127.0.0.1:{port}/payments-api/health"
    chain, key, serial = cert_files(ws, "checkout-web")
    other_chain, other_key, _ = cert_files(ws, "mobile-bff")
    assert call_with_cert(url, ca, chain, key) == "200"  # accepted before

    code, doc = run_json(
        capsys, ["drill", "revoke", "--service", "checkout-web", "--deadline", "30", *w]
    )
    assert code == 0, doc["reasons"]
    assert doc["verdict"] == "PASS" and doc["revoked"] == [serial]
    [entry] = doc["entry_points"]  # payments-api is the one API that takes certificates
    assert entry["entry_point"] == url and entry["refused"]
    assert 0 < entry["first_refusal_s"] <= entry["stable_s"] < 30
    assert doc["slowest"]["entry_point"] == url
    [gw] = doc["gateways"]
    assert gw["crl"]["number"] == doc["crl_number"] and gw["worst_s"] == entry["stable_s"]
    assert all(t["last_outcome"] == "REFUSED" for t in doc["timings"])
    # The other consumers' certificates were the controls, and nothing else changed.
    assert doc["controls"] and all(set(c["outcomes"]) == {"ACCEPTED"} for c in doc["controls"])
    assert doc["checks"]["other_certificates_changed"] == []
    assert doc["checks"]["modes_before"] == doc["checks"]["modes_after"]
    assert "customer-profile-api" in doc["checks"]["not_probed"]  # key mode: nothing to prove

    # Independently of the drill's prober: refused now, the good certificate still works.
    assert call_with_cert(url, ca, chain, key) in ("403", "SSLV3_ALERT_CERTIFICATE_REVOKED")
    assert call_with_cert(url, ca, other_chain, other_key) == "200"

    # Stored, audited, exportable; status shows the CRL the gateway serves.
    code, drills = run_json(capsys, ["drill", "show", *w])
    assert [(d["kind"], d["subject"], d["verdict"]) for d in drills] == [
        ("revoke", "checkout-web", "PASS")
    ]
    code, shown = run_json(capsys, ["drill", "show", "--id", str(drills[0]["id"]), *w])
    assert shown["entry_points"] == doc["entry_points"]
    capsys.readouterr()
    assert main(["drill", "ticket", *w]) == 0
    ticket = capsys.readouterr().out
    assert "Revocation drill" in ticket and "**PASS**" in ticket and "payments\\-api" in ticket
    code, audit = run_json(capsys, ["audit", "show", *w])
    actions = [r["action"] for r in (audit if isinstance(audit, list) else audit["records"])]
    assert "drill.revoke" in actions and "cert.revoke" in actions or "crl.publish" in actions
    assert main(["audit", "verify", *w]) == 0
    code, status = run_json(capsys, ["status", *w])
    [crl] = status["crl"]
    assert crl["number"] == doc["crl_number"] and crl["state"] == "ok"


@pytest.mark.parametrize("lab", GATEWAYS, indirect=True)
def test_reload_that_does_not_pick_up_the_crl_fails_at_the_deadline(lab):
    from workbench.drill.gateways import PushResult
    from workbench.drill.revoke import revoke_drill
    from workbench.migration import open_campaign

    ws, _, port = lab

    def reload_that_does_nothing(campaign, ref):
        return PushResult(ref.id, 0.0, True)  # "reloaded", but nothing re-read the CRL

    with open_campaign(ws) as campaign:
        report = revoke_drill(campaign, "checkout-web", deadline=5.0, push=reload_that_does_nothing)
    assert report.verdict == "FAIL"
    url = f"https://127.0.0.1:{port}/payments-api/health"
    assert any(url in r and "did not refuse" in r and "ACCEPTED" in r for r in report.failures)
    [entry] = report.entry_points
    assert not entry["refused"] and entry["stable_s"] is None and entry["probes"] >= 2
    assert report.slowest is None


@pytest.mark.parametrize("lab", [GATEWAYS[0]], indirect=True)
def test_bad_input_is_one_line_exit_2(lab, capsys):
    ws, _, _ = lab
    w = ["--workspace", str(ws)]
    capsys.readouterr()
    assert main(["drill", "revoke", "--service", "checkout-wbe", *w]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checkout-web" in err and "Traceback" not in err
    # A service without certificates: nothing to revoke, nothing written.
    assert main(["drill", "revoke", "--service", "fraud-scorer", *w, "--json"]) == 2
    captured = capsys.readouterr()
    assert "no active client certificate" in captured.err and captured.out == ""
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses it: usage error
        main(["drill", "revoke", "--service", "checkout-web", "--deadline", "-1", *w])
    assert exit_info.value.code == 2 and "seconds" in capsys.readouterr().err
    assert main(["drill", "revoke", "--service", "checkout-web", "--reason", "oops", *w]) == 2
    assert "unknown revocation reason" in capsys.readouterr().err
    code, drills = run_json(capsys, ["drill", "show", *w])
    assert code == 0 and drills == []
    assert main(["drill", "ticket", *w]) == 2
    assert "no drill" in capsys.readouterr().err
