"""The verifier against real misbehaving HTTPS servers on 127.0.0.1: no false PASS."""

from __future__ import annotations

import pytest
from verify_pki import OLD_KEY, identities

from workbench.errors import VerifyError
from workbench.verify import Options, Outcome, Target, run_verify, run_verify_many
from workbench.verify.forms import DECOY_VALUE

TIMEOUT = 5.0
ONCE = Options(repeat=1, timeout=TIMEOUT)

MATRIX = [
    # mode, tls_max, expected verdict
    ("correct", None, "PASS"),
    ("correct", "1.2", "PASS"),
    ("correct_tls", None, "PASS"),
    ("correct_tls", "1.2", "PASS"),
    ("accept_all", None, "FAIL"),
    ("accept_old_key", None, "FAIL"),
    ("refuse_new_cert", None, "FAIL"),
    ("waf_403", None, "FAIL"),
    ("status_500", None, "INCONCLUSIVE"),
    ("all_500", None, "INCONCLUSIVE"),
    ("status_429", None, "INCONCLUSIVE"),
    ("status_404", None, "INCONCLUSIVE"),
    ("redirect_login", None, "INCONCLUSIVE"),
    ("login_page_200", None, "INCONCLUSIVE"),
    ("portal_html", None, "INCONCLUSIVE"),
    ("eof_close", None, "INCONCLUSIVE"),
    ("reset", None, "INCONCLUSIVE"),
    ("echo_key", None, "INCONCLUSIVE"),
    ("garbage_echo", None, "INCONCLUSIVE"),
    ("huge_body", None, "PASS"),
    ("plain_http", None, "ERROR"),
]


def _by_name(verdict):
    return {p.name: p for p in verdict.probes}


@pytest.mark.parametrize(("mode", "tls_max", "expected"), MATRIX)
def test_verdict_matrix(pki, serve, mode, tls_max, expected):
    srv = serve(mode, tls_max=tls_max)
    result = run_verify(Target(srv.url), identities(pki), timeout=TIMEOUT)
    v = result.verdict
    assert v.verdict == expected, (mode, v.reasons, [(p.name, p.observed) for p in v.probes])
    assert v.reasons
    # Never a PASS without its three required probes passing.
    if v.verdict != "PASS":
        assert not all(p.outcome == "pass" for p in v.probes)


def test_correct_server_refusals_are_the_expected_ones(pki, serve):
    srv = serve("correct")
    v = run_verify(Target(srv.url), identities(pki), timeout=TIMEOUT).verdict
    probes = _by_name(v)
    assert probes["positive-control"].observed == "HTTP 200"
    assert probes["old-key-only"].observed == "HTTP 401"
    assert probes["no-credentials"].observed == "HTTP 401"
    assert probes["foreign-ca-cert"].evidence.tls_alert == "TLSV1_ALERT_UNKNOWN_CA"
    assert probes["revoked-cert"].evidence.tls_alert == "SSLV3_ALERT_CERTIFICATE_REVOKED"
    assert probes["other-service-cert"].observed == "HTTP 403"
    # The declared header carried the key alone and beside another identity's certificate,
    # to the health path, with GET and POST, 5 times each: 2 x 1 x 2 x 5; then once in each
    # corner (see test_verify_hunt.py): its name in another case and sent twice (the server
    # reads the first value: the key once, the wrong value once) with GET and POST, and
    # HTTP/1.0, keep-alive (two requests) and another SNI (the stdlib server answers the
    # HEAD/PUT/PATCH/DELETE corners 501 before it reads the headers, and does not speak
    # HTTP/2); another Host; the path spelled 4 other ways.
    assert srv.log.keys_seen.count(OLD_KEY) == 20 + 2 * 2 + 4 + 1 + 4
    assert set(srv.log.keys_seen) == {OLD_KEY, DECOY_VALUE}
    # GET has the control more, and the GET-only corners: HTTP/1.0, keep-alive (two requests)
    # another SNI and another Host, each with no credentials and the key in 7 forms.
    # The path spellings are GET only too: no credentials and the declared header, 4 ways.
    gets = srv.log.methods.count("GET")
    assert srv.log.methods.count("POST") == gets - 1 - 5 * (1 + 7) - 4 * 2


@pytest.mark.parametrize(
    ("tls_max", "alert", "version"),
    [
        (None, "TLSV13_ALERT_CERTIFICATE_REQUIRED", "TLSv1.3"),
        ("1.2", "SSLV3_ALERT_HANDSHAKE_FAILURE", None),
    ],
)
def test_tls_level_refusal_is_read_from_the_alert_reason(pki, serve, tls_max, alert, version):
    srv = serve("correct_tls", tls_max=tls_max)
    v = run_verify(Target(srv.url), identities(pki, negatives=False), timeout=TIMEOUT).verdict
    probes = _by_name(v)
    assert v.verdict == "PASS"
    old = probes["old-key-only"].evidence
    assert old.outcome is Outcome.REFUSED
    assert old.tls_alert == alert
    # TLS 1.3 completes the handshake before the alert; TLS 1.2 fails inside it.
    assert old.tls_version == version
    expected_control = "TLSv1.3" if tls_max is None else "TLSv1.2"
    assert probes["positive-control"].evidence.tls_version == expected_control


def test_slow_server_times_out_as_error(pki, serve):
    srv = serve("slow", slow_seconds=5)
    options = Options(repeat=1, timeout=0.5, concurrency=32)
    result = run_verify(Target(srv.url), identities(pki, negatives=False), options=options)
    assert result.verdict.verdict == "ERROR"
    # The look-alike foreign certificate is refused by the handshake, before the slow handler.
    # (The stdlib server answers HEAD/PUT/PATCH/DELETE corners at once with 501, and the
    # HTTP/2 corner is not served: it does not speak HTTP/2.)
    http = [
        p
        for p in result.verdict.probes
        if p.name != "foreign-ca-cert" and p.evidence.corner is None
    ]
    assert http and all(p.evidence.outcome is Outcome.TIMEOUT for p in http)
    assert all(p.evidence.elapsed_ms < 2000 for p in result.verdict.probes)


def test_closed_port_is_error_never_refusal(pki, closed_port):
    url = f"https://127.0.0.1:{closed_port}/health"
    v = run_verify(Target(url), identities(pki), timeout=TIMEOUT).verdict
    assert v.verdict == "ERROR"
    assert {p.evidence.outcome for p in v.probes} == {Outcome.CONN_REFUSED}
    assert all(p.outcome == "inconclusive" for p in v.probes)


def test_dns_failure_is_error(pki):
    v = run_verify(Target("https://no-such-host.invalid/health"), identities(pki)).verdict
    assert v.verdict == "ERROR"
    assert {p.evidence.outcome for p in v.probes} == {Outcome.DNS}


def test_untrusted_server_cert_is_error(pki, serve):
    srv = serve("correct")
    ids = identities(pki, negatives=False)
    # Trust the foreign CA's leaf file as "server CA": the real server cert is then untrusted.
    from dataclasses import replace

    ids = replace(ids, server_ca=pki.foreign.chain)
    v = run_verify(Target(srv.url), ids, timeout=TIMEOUT).verdict
    assert v.verdict == "ERROR"
    assert {p.evidence.outcome for p in v.probes} == {Outcome.SERVER_CERT_UNTRUSTED}


def test_probes_pin_one_ip_and_keep_host_as_sni_and_host_header(pki, serve):
    srv = serve("correct")
    url = f"https://localhost:{srv.port}/health"
    v = run_verify(Target(url), identities(pki), options=ONCE).verdict
    assert v.verdict == "PASS"
    ips = {p.evidence.ip for p in v.probes}
    assert len(ips) == 1 and ips <= {"127.0.0.1", "::1"}
    assert {p.evidence.sni for p in v.probes} == {"localhost"}
    # Every probe is its own connection with a fresh TLS session (req. 17): the matrix, then
    # the corners: 8 key shapes x 2 methods, 10 protocol corners x (no credentials + 7 forms),
    # 4 path spellings x (no credentials + the declared header).
    n = len(v.probes)
    assert srv.log.connections == n == 1 + 2 * (1 + 7 + 7 + 3) + 8 * 2 + 10 * (1 + 7) + 4 * 2
    assert len(srv.log.sni) == n
    # Only the SNI corners (16 probes) send no SNI or another name.
    assert srv.log.sni.count("localhost") == n - 16
    others = set(srv.log.sni) - {"localhost", None}
    assert srv.log.sni.count(None) == 8 and len(others) == 1
    assert others.pop().endswith(".invalid")
    # Every Host header is the pinned host's but the Host corner's (no credentials + 7 forms).
    hosts = srv.log.hosts
    assert hosts.count(f"localhost:{srv.port}") == len(hosts) - 8
    assert len({h for h in hosts if h.endswith(".invalid")}) == 1
    assert not any(p.evidence.session_reused for p in v.probes)


def test_redirect_is_not_followed(pki, serve):
    srv = serve("redirect_login")
    v = run_verify(Target(srv.url), identities(pki, negatives=False), options=ONCE).verdict
    probes = _by_name(v)
    assert probes["old-key-only"].evidence.outcome is Outcome.REDIRECT
    assert probes["old-key-only"].evidence.location == "/login"
    assert "/login" not in srv.log.hosts  # nothing fetched the login page
    assert srv.log.connections == len(v.probes)


def test_environment_mismatch_is_refused_before_any_probe(pki, serve):
    srv = serve("correct")
    target = Target(srv.url, environment="staging", expected_environment="prod")
    with pytest.raises(VerifyError, match="does not match"):
        run_verify(target, identities(pki))
    with pytest.raises(VerifyError, match="does not match"):
        run_verify_many([(target, identities(pki))])
    assert srv.log.connections == 0
    allowed = Target(
        srv.url, environment="staging", expected_environment="prod", allow_cross_environment=True
    )
    assert run_verify(allowed, identities(pki), timeout=TIMEOUT).verdict.verdict == "PASS"


def test_wave_keeps_order_and_judges_each_target(pki, serve, closed_port):
    good = serve("correct")
    bad = serve("accept_old_key")
    ids = identities(pki, negatives=False)
    jobs = [
        (Target(good.url, name="a"), ids),
        (Target(bad.url, name="b"), ids),
        (Target(f"https://127.0.0.1:{closed_port}/h", name="c"), ids),
    ] + [(Target(good.url, name=f"g{i}"), ids) for i in range(9)]
    seen = []
    results = run_verify_many(jobs, concurrency=4, timeout=TIMEOUT, progress=seen.append)
    assert [r.target.name for r in results] == [t.name for t, _ in jobs]
    assert [r.verdict.verdict for r in results[:3]] == ["PASS", "FAIL", "ERROR"]
    assert all(r.verdict.verdict == "PASS" for r in results[3:])
    assert len(seen) == len(jobs)


def test_bad_url_is_a_verify_error(pki):
    with pytest.raises(VerifyError, match="only https"):
        run_verify(Target("http://127.0.0.1:1/"), identities(pki))


def test_tls13_post_handshake_refusals_survive_concurrency(pki, serve):
    # Regression: with asyncio streams, about half of these alerts were lost as EPIPE when
    # the request write met the server's RST (see workbench/verify/tlsconn.py).
    srv = serve("correct_tls")
    jobs = [(Target(srv.url), identities(pki))] * 12
    results = run_verify_many(jobs, options=Options(repeat=1, timeout=5, concurrency=8))
    observed = {p.observed for r in results for p in r.verdict.probes if p.outcome != "pass"}
    assert [r.verdict.verdict for r in results] == ["PASS"] * 12, observed
    alerts = [p for r in results for p in r.verdict.probes if p.evidence.tls_alert]
    assert len(alerts) >= 200  # hundreds of post-handshake refusals, none lost


def test_response_read_is_bounded(pki, serve):
    srv = serve("huge_body")
    v = run_verify(Target(srv.url), identities(pki, negatives=False), timeout=TIMEOUT).verdict
    control = _by_name(v)["positive-control"].evidence
    assert control.http_status == 200 and control.body_truncated
    assert control.body_len == 64 * 1024


def test_malformed_answer_echoing_the_key_is_redacted(pki, serve):
    srv = serve("garbage_echo")
    v = run_verify(Target(srv.url), identities(pki, negatives=False), timeout=TIMEOUT).verdict
    old = _by_name(v)["old-key-only"]
    assert old.outcome == "inconclusive"
    assert OLD_KEY not in repr(v) and OLD_KEY[:12] not in repr(v)
    assert "malformed HTTP" in (old.evidence.error_reason or "")


def test_tls_contexts_are_built_once_per_identity_not_per_probe(pki, serve, monkeypatch):
    import workbench.verify.matrix as engine

    calls = []
    real = engine.client_context
    monkeypatch.setattr(engine, "client_context", lambda *a: calls.append(a) or real(*a))
    srv = serve("correct")
    # bare (3 times: as it is, without hostname checking, offering HTTP/2) + new + foreign +
    # revoked + other
    ids = identities(pki)
    results = run_verify_many([(Target(srv.url), ids)] * 4, options=ONCE)
    assert {r.verdict.verdict for r in results} == {"PASS"}
    assert len(calls) == 7


def test_redaction_happens_before_truncation():
    from workbench.secrets import SecretValue
    from workbench.verify.redact import redact

    key = SecretValue("k" * 40)
    text = "x" * 480 + key.reveal() + "&q=" + "%6B" * 3
    out = redact(text, [key], 500)
    assert "k" * 10 not in out and len(out) <= 500
    assert redact("/login?k=a%2Fb", [SecretValue("a/b")], 500) == "/login?k=<old key fp=" + (
        SecretValue("a/b").fingerprint + ">"
    )
