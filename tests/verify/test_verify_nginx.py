"""The verifier against a real nginx: refusals arrive as HTTP pages, not TLS alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_pki import identities
from verify_servers import NGINX, start_nginx

from workbench.verify import Outcome, Target, run_verify

pytestmark = [
    pytest.mark.nginx,
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed"),
]


@pytest.mark.parametrize("verify_client", ["on", "optional"])
def test_nginx_pass(pki, tmp_path, verify_client):
    port, stop = start_nginx(pki, tmp_path, verify_client=verify_client)
    try:
        v = run_verify(Target(f"https://127.0.0.1:{port}/health"), identities(pki), timeout=5)
    finally:
        stop()
    probes = {p.name: p for p in v.verdict.probes}
    assert v.verdict.verdict == "PASS", v.verdict.reasons
    # "on": nginx answers 400 with its certificate page for a missing or bad cert.
    want = 400 if verify_client == "on" else 401
    assert probes["old-key-only"].evidence.http_status == want
    assert probes["no-credentials"].evidence.http_status == want
    for name in ("foreign-ca-cert", "revoked-cert"):
        assert probes[name].evidence.outcome is Outcome.REFUSED
        assert probes[name].evidence.http_status in (400, 401)
    assert probes["other-service-cert"].evidence.http_status == 403


def test_nginx_without_authorisation_fails_on_another_services_cert(pki, tmp_path):
    port, stop = start_nginx(pki, tmp_path, authz=False)
    try:
        v = run_verify(Target(f"https://127.0.0.1:{port}/health"), identities(pki), timeout=5)
    finally:
        stop()
    assert v.verdict.verdict == "FAIL"
    assert [r for r in v.verdict.reasons if r.startswith("other-service-cert")]
