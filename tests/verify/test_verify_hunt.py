"""An adversarial hunt: real TLS servers on 127.0.0.1 that honour the old key only in a
corner of the protocol the probe matrix of issue 9 never touched. Each passed the verifier
before the corner probes (workbench/verify/corners.py): the verdict was PASS while the
old key still worked. Servers that serve a corner strictly (405, 505, one answer per
connection, another certificate without SNI) keep their PASS.
"""

from __future__ import annotations

import base64
import ssl

import pytest
from hunt_servers import OK, UNAUTH, HuntServer, Request
from verify_pki import API_HOST, OLD_KEY, identities

from workbench.verify import Options, Target, parse_connect_to, run_verify

ONCE = Options(repeat=1, timeout=3)


@pytest.fixture
def hunt(pki):
    """``hunt(behave, **kw)`` starts a HuntServer; all stop at teardown."""
    servers: list[HuntServer] = []

    def start(behave, **kw) -> HuntServer:
        srv = HuntServer(pki, behave, **kw)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def _carries_key(req: Request) -> bool:
    return any(OLD_KEY in v for _, v in req.headers) or OLD_KEY in req.target


def _basic_carries_key(req: Request) -> bool:
    for value in req.header_values("Authorization"):
        if value.startswith("Basic ") and OLD_KEY in base64.b64decode(value[6:]).decode():
            return True
    return False


def _host(req: Request) -> str:
    return (req.header_values("Host") or [""])[0]  # HTTP/2 sends :authority instead


def _twice(req: Request) -> bool:
    return len(req.header_values("X-API-Key")) == 2


def _correct_but(takes_key):
    """A correct API (consumers 200, other certs 403, the rest 401) that still honours the
    old key where ``takes_key(request)`` says so."""

    def behave(req: Request):
        if req.good:
            return (200, OK)
        if req.spiffe:
            return (403, UNAUTH)
        if takes_key(req):
            return (200, OK)
        return (401, UNAUTH)

    return behave


# (class, where the server still takes the key, the corner that must catch it)
CORNER_CLASSES = [
    ("header name in lower case",
     lambda r: any(k == "x-api-key" and v == OLD_KEY for k, v in r.headers),
     "another key shape"),
    ("declared header twice, the last one read",
     lambda r: _twice(r) and r.header_values("X-API-Key")[-1] == OLD_KEY, "another key shape"),
    ("declared header twice, the first one read",
     lambda r: _twice(r) and r.header_values("X-API-Key")[0] == OLD_KEY, "another key shape"),
    ("key in a cookie", lambda r: any(OLD_KEY in v for v in r.header_values("Cookie")),
     "another key shape"),
    ("key in Basic credentials", _basic_carries_key, "another key shape"),
    ("Kong's apikey header", lambda r: OLD_KEY in r.header_values("apikey"), "another key shape"),
    ("HTTP/1.0 only", lambda r: r.version == "HTTP/1.0" and _carries_key(r), "HTTP/1.0"),
    ("HTTP/2 only", lambda r: r.version == "HTTP/2" and _carries_key(r), "HTTP/2"),
    ("path with a trailing slash",
     lambda r: r.target.startswith("/health/") and _carries_key(r),
     "path with the trailing slash toggled"),
    ("path in upper case", lambda r: r.target.startswith("/HEALTH") and _carries_key(r),
     "path in upper case"),
    ("path with a percent-encoded letter",
     lambda r: r.target.startswith("/%68") and _carries_key(r),
     "path with a percent-encoded letter"),
    ("path with a double slash", lambda r: r.target.startswith("//") and _carries_key(r),
     "path with a double slash"),
    ("another Host: the default server block",
     lambda r: _host(r).endswith(".invalid") and _carries_key(r), "Host wb-"),
    ("second request of a kept-alive connection",
     lambda r: r.req_no > 1 and _carries_key(r), "keep-alive, 2nd request"),
    ("HEAD not checked", lambda r: r.method == "HEAD" and _carries_key(r), "method HEAD"),
    ("PUT not checked", lambda r: r.method == "PUT" and _carries_key(r), "method PUT"),
    ("PATCH not checked", lambda r: r.method == "PATCH" and _carries_key(r), "method PATCH"),
    ("DELETE not checked", lambda r: r.method == "DELETE" and _carries_key(r), "method DELETE"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "takes_key", "corner"), CORNER_CLASSES, ids=lambda x: x)
def test_key_honoured_in_a_corner_fails(pki, hunt, name, takes_key, corner):
    srv = hunt(_correct_but(takes_key), alpn=("h2", "http/1.1"))
    v = run_verify(Target(srv.url), identities(pki), options=ONCE).verdict
    assert v.verdict == "FAIL", (name, v.reasons)
    failed = [p for p in v.probes if p.outcome == "fail"]
    # Only the corner catches it: every probe of the main matrix was refused.
    assert failed and {p.name for p in failed} == {"old-key-corner"}
    assert any(p.evidence.corner.startswith(corner) for p in failed)
    assert any(f"({corner}" in r for r in v.reasons)
    assert any(_carries_key(r) or _basic_carries_key(r) for r in srv.log.requests)


def _named(srv: HuntServer) -> tuple[str, Options]:
    pin = parse_connect_to(f"{API_HOST}:{srv.port}:127.0.0.1")
    return f"https://{API_HOST}:{srv.port}/health", Options(repeat=1, timeout=3, connect_to=(pin,))


@pytest.mark.parametrize(
    ("name", "takes_key", "corner"),
    [
        ("no SNI: the default server block", lambda r: r.sni is None, "no SNI"),
        ("another SNI", lambda r: r.sni not in (None, API_HOST), "SNI wb-"),
    ],
)
def test_key_honoured_under_another_sni_fails(pki, hunt, name, takes_key, corner):
    srv = hunt(_correct_but(lambda r: takes_key(r) and _carries_key(r)))
    url, options = _named(srv)
    v = run_verify(Target(url), identities(pki), options=options).verdict
    assert v.verdict == "FAIL", (name, v.reasons)
    failed = [p for p in v.probes if p.outcome == "fail"]
    assert failed and all(p.evidence.corner.startswith(corner) for p in failed)
    # The pin stays the host's: the corner is told apart by its own field.
    assert {p.evidence.sni for p in failed} == {API_HOST}


def test_an_open_corner_fails_even_without_the_key(pki, hunt):
    # HTTP/1.0 requests skip the check altogether: anyone gets in, with or without the key.
    srv = hunt(_correct_but(lambda r: r.version == "HTTP/1.0"))
    v = run_verify(Target(srv.url), identities(pki), options=ONCE).verdict
    assert v.verdict == "FAIL"
    assert "no-credentials-corner" in {p.name for p in v.probes if p.outcome == "fail"}


def _strict(req: Request):
    """A correct API that serves the corners strictly: other methods 405, HTTP/1.0 505
    (HTTP/2 like HTTP/1.1)."""
    if req.method not in ("GET", "POST"):
        return (405, b'{"error":"method not allowed"}')
    if req.version == "HTTP/1.0":
        return (505, b'{"error":"HTTP/1.1 only"}')
    if req.good:
        return (200, OK)
    return (403, UNAUTH) if req.spiffe else (401, UNAUTH)


def test_a_strict_server_keeps_its_pass_and_the_scope_names_the_corners(pki, hunt):
    srv = hunt(_strict, alpn=("h2", "http/1.1"))
    url, options = _named(srv)
    result = run_verify(Target(url), identities(pki), options=options)
    v = result.verdict
    assert v.verdict == "PASS", v.reasons
    corners = {p.evidence.corner for p in v.probes if p.evidence.corner}
    assert {"HTTP/1.0", "HTTP/2", "keep-alive, 2nd request", "no SNI", "method HEAD"} <= corners
    said = (
        "once each: 8 more key shapes, HTTP/1.0, HTTP/2, keep-alive, no SNI and another SNI, "
        "another Host, HEAD/PUT/PATCH/DELETE, the paths spelled 4 other ways"
    )
    assert said in v.reasons[-1]
    h2 = [p for p in v.probes if p.evidence.corner == "HTTP/2"]
    assert h2 and {p.observed for p in h2} == {"HTTP 401"}  # spoken, and refused
    assert "HTTP/2" in {r.version for r in srv.log.requests}
    assert result.scope["corners"]["methods"] == ["HEAD", "PUT", "PATCH", "DELETE"]
    assert {r.req_no for r in srv.log.requests} == {1, 2}  # the 2nd request did go out


def test_a_server_closing_after_one_answer_is_not_served_not_inconclusive(pki, hunt):
    def one_answer(req: Request):
        reply = _strict(req)
        return _closing(*reply)

    srv = hunt(one_answer)
    v = run_verify(Target(srv.url), identities(pki), options=ONCE).verdict
    assert v.verdict == "PASS", v.reasons
    kept = [p for p in v.probes if p.evidence.corner == "keep-alive, 2nd request"]
    assert kept and {p.evidence.outcome.value for p in kept} == {"NOT_SERVED"}
    # No ALPN on this server: the HTTP/2 corner is not served either, and says why.
    h2 = [p for p in v.probes if p.evidence.corner == "HTTP/2"]
    assert h2 and {p.observed for p in h2} == {
        "NOT_SERVED (the server did not agree to HTTP/2 (ALPN))"
    }
    assert {r.req_no for r in srv.log.requests} == {1}


def _closing(status: int, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        "\r\nConnection: close\r\n\r\n"
    ).encode() + body


def test_another_certificate_without_sni_gets_no_key(pki, hunt):
    # Without SNI the server shows a certificate of another CA (a default server block):
    # nothing is sent there, the key least of all, and the verdict stays PASS.
    foreign = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    foreign.load_cert_chain(pki.foreign.chain, pki.foreign.key)
    srv = hunt(_correct_but(lambda r: r.sni is None))

    record = srv.ctx.sni_callback

    def pick(sslobj, name, ctx):
        record(sslobj, name, ctx)
        if name is None:
            sslobj.context = foreign

    srv.ctx.sni_callback = pick
    url, options = _named(srv)
    v = run_verify(Target(url), identities(pki), options=options).verdict
    assert v.verdict == "PASS", v.reasons
    unsent = [p for p in v.probes if p.evidence.corner == "no SNI"]
    assert unsent and not any(p.evidence.request_sent for p in unsent)
    assert all(r.sni is not None for r in srv.log.requests)


@pytest.mark.parametrize(
    ("sans", "host", "named"),
    [
        ((("DNS", "api.acme.test"),), "api.acme.test", True),
        ((("DNS", "API.Acme.Test."),), "api.acme.test", True),
        ((("DNS", "*.acme.test"),), "api.acme.test", True),
        ((("DNS", "*.acme.test"),), "x.api.acme.test", False),
        ((("DNS", "*.acme.test"),), "acme.test", False),
        ((("DNS", "other.acme.test"),), "api.acme.test", False),
        ((("IP Address", "0:0:0:0:0:0:0:1\n"),), "[::1]", True),
        ((("IP Address", "127.0.0.1"),), "127.0.0.1", True),
        ((("DNS", "127.0.0.1"),), "127.0.0.1", False),
        ((), "api.acme.test", False),
    ],
)
def test_the_sni_corners_check_the_server_name_themselves(sans, host, named):
    # The SNI corners connect without hostname checking (they send another name or none);
    # before anything is sent, the verified certificate must still name the pinned host.
    from workbench.verify.tlsconn import names_host

    assert names_host({"subjectAltName": sans}, host) is named


def test_an_endless_chunk_size_line_is_cut_short(pki, hunt):
    # A server streaming one chunk-size line without end: the reader stops after 1 KiB
    # instead of growing (and rescanning) its buffer until the deadline.
    def endless(tls, _log):
        tls.recv(65536)
        tls.sendall(b"HTTP/1.1 401 X\r\nContent-Type: application/json\r\n")
        tls.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        blob = b"f" * 65536
        while True:
            tls.sendall(blob)

    srv = hunt(None, raw=endless)
    v = run_verify(
        Target(srv.url), identities(pki, negatives=False), options=Options(repeat=1, timeout=20)
    ).verdict
    old = [p for p in v.probes if p.name == "old-key-only"]
    assert old and all(p.evidence.http_status == 401 for p in old)
    assert all(p.evidence.elapsed_ms < 10_000 for p in v.probes)


def test_a_refusal_status_around_the_data_is_not_a_refusal(pki, hunt):
    # 401 on the status line, the API's own answer in the body: the key still gets the data.
    def leaky(req: Request):
        if req.good or _carries_key(req):
            return (200 if req.good else 401, OK)
        return (403, UNAUTH) if req.spiffe else (401, UNAUTH)

    srv = hunt(leaky)
    v = run_verify(Target(srv.url), identities(pki), options=ONCE).verdict
    assert v.verdict == "INCONCLUSIVE", v.reasons
    open_ = [p for p in v.probes if p.outcome == "inconclusive"]
    assert open_ and all(_carries_key_form(p) for p in open_)
    assert "HTTP 401 (the refusal carries the positive control's body)" in v.reasons[0]


def _carries_key_form(p) -> bool:
    return p.evidence.form is not None and "old key" in p.evidence.identity


def _before(takes_any_value: bool):
    def behave(req: Request):
        if req.good:
            return (200, OK)
        values = req.header_values("X-API-Key")
        if values and (takes_any_value or values == [OLD_KEY]):
            return (200, OK)
        return (401, UNAUTH)

    return behave


@pytest.mark.parametrize(("takes_any_value", "state"), [(False, "LIVE"), (True, "UNKNOWN")])
def test_before_the_change_a_wrong_value_must_be_refused(pki, hunt, takes_any_value, state):
    # A gateway that only checks that the header is there accepts the workbench's value
    # whatever it is: that acceptance cannot show the value is the live one.
    from workbench.verify import run_confirm_live

    srv = hunt(_before(takes_any_value))
    live = run_confirm_live(Target(srv.url), identities(pki), options=ONCE)
    assert live.state == state, live.reasons
    sent = [r.header_values("X-API-Key") for r in srv.log.requests]
    assert sorted(sent) == sorted([[OLD_KEY], ["workbench-decoy-not-a-key"]])
    if takes_any_value:
        assert "a wrong value in the same header got HTTP 200" in live.reasons[0]


def test_a_certificate_of_the_right_ca_for_another_name_is_an_error(pki, hunt):
    # Already handled before the hunt (hostname checking): pinned to the right address
    # under a name the server certificate does not carry, nothing is sent, the verdict ERROR.
    srv = hunt(_correct_but(_carries_key))
    pin = parse_connect_to(f"other.acme.test:{srv.port}:127.0.0.1")
    url = f"https://other.acme.test:{srv.port}/health"
    v = run_verify(Target(url), identities(pki), options=Options(repeat=1, connect_to=(pin,)))
    assert v.verdict.verdict == "ERROR"
    assert not srv.log.requests


def test_another_site_behind_another_host_keeps_the_pass(pki, hunt):
    # A default server block answers any other Host with its welcome page, to everyone:
    # another site, not the API (another media type); the verdict stays PASS.
    def with_default_site(req: Request):
        if not _host(req).startswith("127.0.0.1"):
            return (200, b"<html><h1>Welcome</h1></html>", "text/html")
        return _strict(req)

    srv = hunt(with_default_site)
    v = run_verify(Target(srv.url), identities(pki), options=ONCE).verdict
    assert v.verdict == "PASS", v.reasons
    other = [p for p in v.probes if (p.evidence.corner or "").startswith("Host ")]
    assert other and {p.observed for p in other} == {"HTTP 200 login page"}
    assert {p.outcome for p in other} == {"pass"}
