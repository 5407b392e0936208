"""The verifier against a real nginx: refusals arrive as HTTP pages, not TLS alerts."""

from __future__ import annotations

import pytest
from verify_pki import identities
from verify_servers import (
    NGINX_BEARER,
    NGINX_KEY_WITH_ANY_CERT,
    NGINX_QUERY,
    start_nginx,
)

from workbench.verify import Options, Outcome, Target, run_verify

pytestmark = pytest.mark.nginx


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


def _run_nginx(pki, tmp_path, ids, **conf):
    port, stop = start_nginx(pki, tmp_path, **conf)
    try:
        return run_verify(
            Target(f"https://127.0.0.1:{port}/health"), ids, options=Options(repeat=2, timeout=5)
        ).verdict
    finally:
        stop()


def test_nginx_accepting_any_client_certificate_fails_without_foreign_cert(pki, tmp_path):
    # Issue 9 class 6: `ssl_verify_client optional_no_ca` and only the subject is checked.
    # No --foreign-cert is given: the throwaway look-alike (same subject and SANs) is accepted.
    v = _run_nginx(
        pki,
        tmp_path,
        identities(pki, negatives=False),
        verify_client="optional_no_ca",
        check_verify=False,
    )
    assert v.verdict == "FAIL", v.reasons
    failed = {p.name for p in v.probes if p.outcome == "fail"}
    assert failed == {"foreign-ca-cert"}
    assert all("throwaway" in p.evidence.identity for p in v.probes if p.name in failed)


@pytest.mark.parametrize(
    ("extra", "verify_client", "probe", "form"),
    [
        (NGINX_KEY_WITH_ANY_CERT, "on", "old-key+other-cert", "header X-API-Key"),
        (NGINX_BEARER, "optional", "old-key-only", "Authorization: Bearer"),
        (NGINX_QUERY, "optional", "old-key-only", "query api_key"),
    ],
)
def test_nginx_honouring_the_key_in_another_shape_fails(
    pki, tmp_path, extra, verify_client, probe, form
):
    # Issue 9 classes 1 and 2 on real nginx. With `ssl_verify_client on`, the key alone is
    # refused (400 certificate page) and only the key beside a valid certificate shows it.
    v = _run_nginx(pki, tmp_path, identities(pki), verify_client=verify_client, extra=extra)
    assert v.verdict == "FAIL", v.reasons
    failed = {(p.name, p.evidence.form) for p in v.probes if p.outcome == "fail"}
    assert (probe, form) in failed
    assert {f for _, f in failed} == {form}  # only the misconfigured shape got through
