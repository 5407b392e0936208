"""One probe: a fresh TLS connection to a pinned IP, one HTTP/1.1 request, bounded read (req. 17).

Built on ``ssl`` memory BIOs over a blocking socket (see :mod:`workbench.verify.tlsconn`),
run in a pool of threads, with a minimal HTTP/1.1 reader (:mod:`workbench.verify.http1`):
nothing in between could pool connections, follow redirects or resume TLS sessions.
"""

from __future__ import annotations

import hashlib
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench.secrets import SecretValue
from workbench.verify.classify import (
    Outcome,
    PeerClosed,
    classify_exception,
    classify_http,
    tls_reason,
)
from workbench.verify.forms import KeyForm
from workbench.verify.http1 import read_response, request_bytes
from workbench.verify.http2 import exchange_h2
from workbench.verify.redact import redact
from workbench.verify.resolve import is_ip_literal
from workbench.verify.tlsconn import TLSConnection, check_server_name

__all__ = [
    "MAX_BODY_BYTES",
    "USER_AGENT",
    "PinnedHost",
    "ProbeEvidence",
    "ProbeSpec",
    "client_context",
    "is_ip_literal",
    "run_probe",
    "run_probe_blocking",
]

PINNED_SNI = "<pinned host>"
"""``ProbeSpec.sni`` default: send the pinned host name (none for an IP literal)."""
MAX_BODY_BYTES = 64 * 1024
"""At most this much of a response body is read; the rest is ignored (evidence says so)."""
USER_AGENT = "workbench-verify/2"
"""Default User-Agent of the probes. Usage reports do not trust it: each run appends its own
random token (``run/<token>``), and only requests carrying a recorded run's token, inside
that run's time window, are left out (req. 33)."""


@dataclass(frozen=True)
class PinnedHost:
    """Where every probe of one run connects: resolved once, reused by all probes."""

    host: str
    """Host name from the URL: sent as SNI (unless an IP literal) and in the Host header."""
    ip: str
    """The address ``host`` resolved to at the start of the run."""
    port: int
    """TCP port."""
    host_header: str
    """Host header value (``host`` plus ``:port`` unless 443)."""


@dataclass(frozen=True)
class ProbeSpec:
    """What one probe sends."""

    name: str
    """Probe name, e.g. ``positive-control``, ``old-key-only``."""
    expected: str
    """``accepted`` or ``refused``."""
    context: ssl.SSLContext = field(repr=False, compare=False)
    """Client TLS context of the identity (built once, reused across probes)."""
    identity: str
    """Who the probe claims to be: cert subject/SPIFFE/serial, ``old key fp=...`` or ``none``."""
    path: str
    """Request target (path and query), without the secret."""
    method: str = "GET"
    """``GET`` or ``POST`` (sent with an empty body)."""
    form: KeyForm | None = None
    """How ``secret`` travels (header, Authorization scheme or query parameter)."""
    secret: SecretValue | None = field(default=None, compare=False)
    """The secret sent; revealed only when writing the request."""
    attempt: int = 1
    """Repetition number of this probe (each on a fresh connection)."""
    corner: str | None = None
    """For the corner probes (:mod:`workbench.verify.corners`): which corner, in words."""
    version: str = "HTTP/1.1"
    """HTTP version of the request line."""
    sni: str | None = PINNED_SNI
    """SNI to send: the pinned host's (default), ``None`` for none, or another name. Any
    but the default needs a context without hostname checking: the probe then checks the
    server certificate's names against the pinned host itself before sending anything."""
    keep_alive: bool = False
    """Send the request twice on one connection; the second answer is the one judged (the
    first too when it accepts)."""
    host_header: str | None = None
    """Host header to send instead of the pinned host's."""
    http2: bool = False
    """Speak HTTP/2 (``context`` must offer ALPN ``h2``); a server that does not agree to
    it has not served the probe."""


@dataclass(frozen=True)
class ProbeEvidence:
    """What one probe observed; holds no secret (only fingerprints and hashes)."""

    name: str
    """Probe name."""
    url: str
    """URL probed (scheme, original host, port, path)."""
    ip: str
    """Pinned IP actually connected to."""
    port: int
    """TCP port."""
    sni: str | None
    """SNI of the pinned host (None for IP literals, which TLS does not put in SNI); a
    corner probe that sent another (or none) says so in ``corner``."""
    host_header: str
    """Host header sent."""
    identity: str
    """Identity presented."""
    outcome: Outcome
    """Classified outcome (HTTP answers are refined later against the positive control)."""
    method: str = "GET"
    """HTTP method sent."""
    form: str | None = None
    """How the secret travelled (``header X-API-Key``, ``query api_key`` ...), if one was sent."""
    attempt: int = 1
    """Repetition number (fresh connection each)."""
    tls_version: str | None = None
    """Negotiated TLS version, if the handshake completed."""
    cipher: str | None = None
    """Negotiated cipher suite."""
    session_reused: bool | None = None
    """Whether the TLS session was resumed (always expected False: a fresh session per probe)."""
    http_status: int | None = None
    """HTTP status code, if a response arrived."""
    content_type: str | None = None
    """Response Content-Type."""
    location: str | None = None
    """Location header of a redirect (never followed)."""
    tls_alert: str | None = None
    """``ssl.SSLError.reason`` found in the error chain (e.g. TLSV13_ALERT_CERTIFICATE_REQUIRED)."""
    error_class: str | None = None
    """Class name of the error, for the record only (never used to classify)."""
    error_reason: str | None = None
    """Short reason: TLS reason, errno name, ``timed out`` ..."""
    body_len: int = 0
    """Bytes of body read (capped at MAX_BODY_BYTES)."""
    body_truncated: bool = False
    """True when the body was longer than the cap."""
    body_sha256: str | None = None
    """First 16 hex of SHA-256 of the body bytes read."""
    elapsed_ms: float = 0.0
    """Connect + TLS + request + response time."""
    corner: str | None = None
    """Which corner a corner probe tried (HTTP/1.0, keep-alive, no SNI, HEAD, a key shape)."""
    request_sent: bool = False
    """Whether the request went out (False: refused or failed before anything was sent)."""
    body: bytes = field(default=b"", repr=False, compare=False)
    """Body bytes, kept in memory for classification only; never exported (may echo secrets)."""


def client_context(
    ca_file: Path | str,
    cert_file: Path | str | None = None,
    key_file: Path | str | None = None,
) -> ssl.SSLContext:
    """A client context trusting only ``ca_file`` for the server, optionally with a client
    cert. Build once per identity (~1.5 ms) and reuse; it never loads the system CA bundle."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=str(ca_file))
    if cert_file is not None:
        ctx.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return ctx


def _shown_url(spec: ProbeSpec, pinned: PinnedHost) -> str:
    host = pinned.host if ":" not in pinned.host else f"[{pinned.host}]"
    path = spec.path
    if spec.form is not None and spec.secret is not None:
        path = spec.form.shown_path(path, f"<old key fp={spec.secret.fingerprint}>")
    return f"https://{host}:{pinned.port}{path}"


async def run_probe(
    spec: ProbeSpec, pinned: PinnedHost, *, timeout: float, user_agent: str = USER_AGENT
) -> ProbeEvidence:
    """:func:`run_probe_blocking` from a coroutine (in a worker thread)."""
    import asyncio

    return await asyncio.to_thread(
        run_probe_blocking, spec, pinned, timeout=timeout, user_agent=user_agent
    )


def run_probe_blocking(
    spec: ProbeSpec, pinned: PinnedHost, *, timeout: float, user_agent: str = USER_AGENT
) -> ProbeEvidence:
    """Run one probe on a new connection (blocking, at most ``timeout`` seconds); never
    raises for network or TLS trouble."""
    started = time.perf_counter()
    sni = None if is_ip_literal(pinned.host) else pinned.host
    facts: dict = {}
    outcome = Outcome.OTHER
    send_sni = pinned.host if spec.sni == PINNED_SNI else spec.sni
    try:
        deadline = time.monotonic() + timeout
        with TLSConnection(pinned.ip, pinned.port, spec.context, send_sni, deadline) as conn:
            conn.connect()
            tls = conn.tls
            assert tls is not None
            if spec.sni != PINNED_SNI:
                check_server_name(tls, pinned.host)  # before anything is sent
            facts["tls_version"] = tls.version()
            facts["cipher"] = (tls.cipher() or (None,))[0]
            facts["session_reused"] = tls.session_reused
            _exchange(spec, pinned, conn, facts, user_agent)
        # Refined later by the verdict against what the positive control got.
        not_served = facts.pop("not_served", None)
        if not_served:
            outcome = Outcome.NOT_SERVED
            facts["error_reason"] = not_served
        else:
            outcome = classify_http(facts["http_status"], facts.get("content_type"), facts["body"])
    except Exception as exc:  # every failure becomes evidence; classification reads the chain
        outcome, reason = classify_exception(exc)
        facts["error_class"] = type(exc).__name__
        facts["error_reason"] = reason
        facts["tls_alert"] = tls_reason(exc)
    body = facts.pop("body", b"")
    sent = (spec.secret,) if spec.secret is not None else ()
    return ProbeEvidence(
        name=spec.name,
        url=_shown_url(spec, pinned),
        ip=pinned.ip,
        port=pinned.port,
        sni=sni,
        host_header=pinned.host_header,
        identity=spec.identity,
        outcome=outcome,
        method=spec.method,
        form=spec.form.label if spec.form is not None else None,
        attempt=spec.attempt,
        corner=spec.corner,
        # A misbehaving server may echo what it was sent, in any encoding: scrub it.
        location=redact(facts.pop("location", None), sent, 500),
        content_type=redact(facts.pop("content_type", None), sent, 200),
        error_reason=redact(facts.pop("error_reason", None), sent, 200),
        body=body,
        body_len=len(body),
        body_sha256=hashlib.sha256(body).hexdigest()[:16] if body else None,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        **facts,
    )


def _exchange(
    spec: ProbeSpec, pinned: PinnedHost, conn: TLSConnection, facts: dict, user_agent: str
) -> None:
    headers = [
        ("Host", spec.host_header or pinned.host_header),
        ("User-Agent", user_agent),
        ("Accept", "application/json, */*;q=0.5"),
        ("Connection", "keep-alive" if spec.keep_alive else "close"),
    ]
    if spec.method not in ("GET", "HEAD"):
        headers.append(("Content-Length", "0"))
    target = spec.path
    if spec.form is not None and spec.secret is not None:
        value = spec.secret.reveal()
        if spec.form.where == "header":
            headers.extend(spec.form.header_items(value))
        else:
            target = spec.form.wire_path(target, value)
    if spec.http2:
        h2_headers = [h for h in headers if h[0] not in ("Host", "Connection")]  # not in h2
        return _exchange_h2(spec, pinned, conn, facts, target, h2_headers)
    request = request_bytes(spec.method, target, headers, spec.version)
    head = spec.method == "HEAD"
    conn.send(request)
    facts["request_sent"] = True
    response = read_response(conn.recv, limit=MAX_BODY_BYTES, head=head)
    if spec.keep_alive and not 200 <= response.status < 300:
        if not _kept_alive(response):
            facts["not_served"] = "the server closes after one answer"
            return
        try:
            conn.send(request.replace(b"Connection: keep-alive", b"Connection: close", 1))
            response = read_response(conn.recv, limit=MAX_BODY_BYTES, head=head)
        except (PeerClosed, OSError):
            facts["not_served"] = "closed instead of serving a second request"
            return
    _record(response, facts)


def _exchange_h2(
    spec: ProbeSpec, pinned: PinnedHost, conn: TLSConnection, facts: dict, target, headers
) -> None:
    assert conn.tls is not None
    if conn.tls.selected_alpn_protocol() != "h2":
        facts["not_served"] = "the server did not agree to HTTP/2 (ALPN)"
        return
    facts["request_sent"] = True
    response = exchange_h2(conn.send, conn.recv, method=spec.method, authority=pinned.host_header,
                           target=target, headers=headers, limit=MAX_BODY_BYTES)  # fmt: skip
    _record(response, facts)


def _record(response, facts: dict) -> None:
    facts["http_status"] = response.status
    if "content-type" in response.headers:
        facts["content_type"] = response.headers["content-type"]
    if "location" in response.headers:
        facts["location"] = response.headers["location"]
    if response.truncated:
        facts["body_truncated"] = True
    facts["body"] = response.body


def _kept_alive(response) -> bool:
    """Whether the connection can carry a second request after ``response``."""
    framed = "content-length" in response.headers or "chunked" in response.headers.get(
        "transfer-encoding", ""
    ).lower() or response.status in (204, 304)  # fmt: skip
    return framed and "close" not in response.headers.get("connection", "").lower()
