"""Turn what a probe saw into an :class:`Outcome` (requirements 14-16). Pure functions.

TLS refusals are judged from ``ssl.SSLError.reason`` found by walking ``__cause__`` and
``__context__`` (req. 16), never from the exception class: the same ``ConnectionError``
class covers a refused port, a reset and (in some clients) a TLS 1.2 rejection, and only the
first of those is an answer from the server about the credential.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from enum import StrEnum

__all__ = [
    "DECISIVE",
    "ServerNameMismatch",
    "REFUSAL_TLS_REASONS",
    "UNREACHABLE",
    "MalformedResponse",
    "Outcome",
    "PeerClosed",
    "classify_exception",
    "classify_http",
    "iter_chain",
    "looks_like_login_page",
    "tls_reason",
]


class Outcome(StrEnum):
    """What one probe observed, in the verifier's vocabulary."""

    ACCEPTED = "ACCEPTED"
    """A 2xx API answer (not a login page)."""
    REFUSED = "REFUSED"
    """A clear refusal of the credential: 401/403, nginx 400/495/496 cert page, or a TLS alert."""
    CONN_REFUSED = "CONN_REFUSED"
    RESET = "RESET"
    TIMEOUT = "TIMEOUT"
    DNS = "DNS"
    EOF_AMBIGUOUS = "EOF_AMBIGUOUS"
    """The peer closed without an alert and without a response: not proof of refusal."""
    SERVER_ERROR = "SERVER_ERROR"
    RATE_LIMITED = "RATE_LIMITED"
    NOT_FOUND = "NOT_FOUND"
    REDIRECT = "REDIRECT"
    LOGIN_PAGE = "LOGIN_PAGE"
    PLAIN_HTTP = "PLAIN_HTTP"
    SERVER_CERT_UNTRUSTED = "SERVER_CERT_UNTRUSTED"
    NOT_SERVED = "NOT_SERVED"
    """A corner probe the server did not serve at all (it closed instead of reading a second
    request on a kept-alive connection): nothing was accepted, nothing refused."""
    OTHER = "OTHER"


DECISIVE = frozenset({Outcome.ACCEPTED, Outcome.REFUSED})
"""The only outcomes that say anything about a credential."""

UNREACHABLE = frozenset(
    {
        Outcome.CONN_REFUSED,
        Outcome.TIMEOUT,
        Outcome.DNS,
        Outcome.PLAIN_HTTP,
        Outcome.SERVER_CERT_UNTRUSTED,
    }
)
"""Outcomes meaning no trustworthy HTTPS exchange took place: the verdict is ERROR, not
INCONCLUSIVE. (RESET and EOF happen after the server was reached, so they are INCONCLUSIVE.)"""

# Alerts a TLS server sends about the client's credential. CERTIFICATE_UNKNOWN is what
# OpenSSL-based servers send for a certificate they could not accept for a reason without
# its own alert (e.g. wrong EKU), and ACCESS_DENIED is a deliberate "valid cert, but not
# you" (RFC 8446 6.2): both are decisions about the presented identity, not transport noise.
REFUSAL_TLS_REASONS = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "TLSV1_ALERT_ACCESS_DENIED",
    }
)

_EOF_REASONS = frozenset({"UNEXPECTED_EOF_WHILE_READING", "EOF_OCCURRED_IN_VIOLATION_OF_PROTOCOL"})
_PLAIN_HTTP_REASONS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG"})
_UNTRUSTED_REASONS = frozenset({"CERTIFICATE_VERIFY_FAILED"})

# nginx answers a missing/bad client cert with 400 and one of these pages (495/496 inside).
_NGINX_CERT_PAGE = re.compile(
    rb"No required SSL certificate was sent|The SSL certificate error|SSL certificate error",
    re.IGNORECASE,
)
_PASSWORD_FIELD = re.compile(rb"<input[^>]*type\s*=\s*[\"']?password", re.IGNORECASE)
_LOGIN_WORDS = re.compile(rb"\b(log\s?in|sign\s?in|signin|login)\b", re.IGNORECASE)


class PeerClosed(Exception):
    """Raised by a probe when the server closed the connection before any HTTP response."""


class ServerNameMismatch(Exception):
    """Raised by a probe that sent another SNI (or none) when the certificate the server
    showed does not name the pinned host: nothing is sent to it."""


class MalformedResponse(Exception):
    """Raised by a probe when the bytes received are not HTTP/1.1."""


def iter_chain(exc: BaseException | None):
    """Yield ``exc`` and every exception reachable through ``__cause__``/``__context__``."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        cur = stack.pop(0)
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        stack.extend([cur.__cause__, cur.__context__])


def tls_reason(exc: BaseException | None) -> str | None:
    """The first ``ssl.SSLError.reason`` in the exception chain, if any."""
    for e in iter_chain(exc):
        if isinstance(e, ssl.SSLError) and getattr(e, "reason", None):
            return str(e.reason)
    return None


def classify_exception(exc: BaseException) -> tuple[Outcome, str]:
    """Outcome and a short reason (TLS reason, errno name or exception name) for a failure."""
    reason = tls_reason(exc)
    if reason is not None:
        if reason in REFUSAL_TLS_REASONS:
            return Outcome.REFUSED, reason
        if reason in _EOF_REASONS:
            return Outcome.EOF_AMBIGUOUS, reason
        if reason in _PLAIN_HTTP_REASONS:
            return Outcome.PLAIN_HTTP, reason
        if reason in _UNTRUSTED_REASONS:
            return Outcome.SERVER_CERT_UNTRUSTED, reason
        return Outcome.OTHER, reason
    for e in iter_chain(exc):
        if isinstance(e, ServerNameMismatch):
            return Outcome.SERVER_CERT_UNTRUSTED, "server certificate does not name the host"
        if isinstance(e, socket.gaierror):
            return Outcome.DNS, f"getaddrinfo: {e.strerror or e}"
        if isinstance(e, PeerClosed | ssl.SSLEOFError | EOFError):
            return Outcome.EOF_AMBIGUOUS, "closed without alert or response"
        if isinstance(e, MalformedResponse):
            return Outcome.OTHER, f"malformed HTTP response: {e}"
        if isinstance(e, TimeoutError):
            return Outcome.TIMEOUT, "timed out"
        if isinstance(e, OSError) and e.errno is not None:
            if e.errno == errno.ECONNREFUSED:
                return Outcome.CONN_REFUSED, "ECONNREFUSED"
            if e.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
                return Outcome.RESET, errno.errorcode[e.errno]
            if e.errno == errno.ETIMEDOUT:
                return Outcome.TIMEOUT, "ETIMEDOUT"
            if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                return Outcome.CONN_REFUSED, errno.errorcode[e.errno]
    return Outcome.OTHER, type(exc).__name__


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def looks_like_login_page(content_type: str | None, body: bytes) -> bool:
    """An HTML page with a password field or login/sign-in wording."""
    if "html" not in _media_type(content_type) and not body.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        return False
    return bool(_PASSWORD_FIELD.search(body) or _LOGIN_WORDS.search(body))


def classify_http(
    status: int,
    content_type: str | None,
    body: bytes,
    *,
    reference_content_type: str | None = None,
) -> Outcome:
    """Outcome of an HTTP answer. ``reference_content_type`` is what the positive control got:
    a 2xx of another media type is treated as a login/portal page, not as the API."""
    if 200 <= status < 300:
        if looks_like_login_page(content_type, body):
            return Outcome.LOGIN_PAGE
        if reference_content_type is not None and _media_type(content_type) != _media_type(
            reference_content_type
        ):
            return Outcome.LOGIN_PAGE
        return Outcome.ACCEPTED
    if status in (401, 403, 495, 496):
        return Outcome.REFUSED
    if status == 400 and _NGINX_CERT_PAGE.search(body):
        return Outcome.REFUSED
    if 300 <= status < 400:
        return Outcome.REDIRECT
    if status == 404:
        return Outcome.NOT_FOUND
    if status == 429:
        return Outcome.RATE_LIMITED
    if 500 <= status < 600:
        return Outcome.SERVER_ERROR
    return Outcome.OTHER
