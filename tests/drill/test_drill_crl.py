"""A gateway serving a stale CRL fails the drill; `workbench status` warns about it."""

from datetime import UTC, datetime, timedelta

import pytest
from drill_support import GATEWAYS, run_json

from workbench.cli import main


@pytest.mark.parametrize("lab", GATEWAYS, indirect=True)
def test_expired_crl_fails_the_drill_and_status_warns(lab, capsys):
    from workbench.drill.revoke import revoke_drill
    from workbench.migration import open_campaign

    ws, _, port = lab
    w = ["--workspace", str(ws)]
    code, status = run_json(capsys, ["status", *w])
    [before] = status["crl"]
    assert before["state"] == "ok" and before["warning"] is None
    # An operator whose clock (or CRL job) is 8 days behind publishes a CRL that is already
    # past its nextUpdate: the gateway then serves an expired CRL.
    behind = datetime.now(UTC) - timedelta(days=8)
    with open_campaign(ws, clock=lambda: behind) as campaign:
        report = revoke_drill(campaign, "checkout-web", deadline=5)
    assert report.verdict == "FAIL"
    assert any("serves a stale CRL" in r and "gateway lab" in r for r in report.failures)
    # OpenSSL refuses every certificate against an expired CRL: the good ones too.
    assert any("good credential" in r and "not accepted" in r for r in report.failures)
    capsys.readouterr()
    assert main(["status", *w]) == 0
    captured = capsys.readouterr()
    assert f"number {report.crl_number}" in captured.out
    assert "warning: gateway lab: its CRL expired" in captured.err
    code, status = run_json(capsys, ["status", *w])
    [crl] = status["crl"]
    assert crl["state"] == "expired" and crl["number"] == report.crl_number
    assert crl["next_update"] < datetime.now(UTC).isoformat()
    # A fresh CRL heals it.
    assert main(["crl", *w]) == 0
