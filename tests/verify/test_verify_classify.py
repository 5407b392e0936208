"""Unit tests of outcome classification (req. 16: judge by SSLError.reason, not by class)."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest

from workbench.verify.classify import (
    REFUSAL_TLS_REASONS,
    MalformedResponse,
    Outcome,
    PeerClosed,
    classify_exception,
    classify_http,
    looks_like_login_page,
)


def ssl_error(reason: str, cls: type[ssl.SSLError] = ssl.SSLError) -> ssl.SSLError:
    exc = cls(1, f"[SSL: {reason}] test")
    exc.reason = reason
    return exc


def chained(outer: BaseException, inner: BaseException, *, cause: bool = True) -> BaseException:
    if cause:
        outer.__cause__ = inner
    else:
        outer.__context__ = inner
    return outer


@pytest.mark.parametrize("reason", sorted(REFUSAL_TLS_REASONS))
def test_refusal_alerts_are_refused_wherever_they_sit_in_the_chain(reason):
    assert classify_exception(ssl_error(reason)) == (Outcome.REFUSED, reason)
    # The class of the outer exception does not matter: a ConnectionResetError or a generic
    # error wrapping the alert is still a refusal, through __cause__ or __context__.
    wrapped = chained(ConnectionResetError(errno.ECONNRESET, "reset"), ssl_error(reason))
    assert classify_exception(wrapped)[0] is Outcome.REFUSED
    deeper = chained(RuntimeError("x"), chained(OSError("y"), ssl_error(reason)), cause=False)
    assert classify_exception(deeper)[0] is Outcome.REFUSED


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (ssl_error("WRONG_VERSION_NUMBER"), Outcome.PLAIN_HTTP),
        (
            ssl_error("CERTIFICATE_VERIFY_FAILED", ssl.SSLCertVerificationError),
            Outcome.SERVER_CERT_UNTRUSTED,
        ),
        (ssl_error("UNEXPECTED_EOF_WHILE_READING", ssl.SSLEOFError), Outcome.EOF_AMBIGUOUS),
        (ssl_error("TLSV1_ALERT_PROTOCOL_VERSION"), Outcome.OTHER),
        (ssl_error("TLSV1_ALERT_INTERNAL_ERROR"), Outcome.OTHER),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), Outcome.CONN_REFUSED),
        (ConnectionResetError(errno.ECONNRESET, "reset"), Outcome.RESET),
        (BrokenPipeError(errno.EPIPE, "pipe"), Outcome.RESET),
        (TimeoutError(), Outcome.TIMEOUT),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), Outcome.DNS),
        (PeerClosed(), Outcome.EOF_AMBIGUOUS),
        (MalformedResponse("illegal status line"), Outcome.OTHER),
        (ValueError("anything else"), Outcome.OTHER),
        # An OSError of the "wrong" class but a refused errno is judged by errno.
        (OSError(errno.ECONNREFUSED, "refused"), Outcome.CONN_REFUSED),
    ],
)
def test_non_refusals(exc, outcome):
    assert classify_exception(exc)[0] is outcome


def test_connection_errors_are_never_refusals():
    for exc in (
        ConnectionRefusedError(errno.ECONNREFUSED, "x"),
        ConnectionResetError(errno.ECONNRESET, "x"),
        TimeoutError(),
        PeerClosed(),
    ):
        assert classify_exception(exc)[0] is not Outcome.REFUSED


def test_cyclic_chain_terminates():
    a, b = RuntimeError("a"), RuntimeError("b")
    a.__context__, b.__context__ = b, a
    assert classify_exception(a)[0] is Outcome.OTHER


LOGIN = b'<html><form><input type="password" name="p"></form></html>'


@pytest.mark.parametrize(
    ("status", "ctype", "body", "ref", "outcome"),
    [
        (200, "application/json", b"{}", None, Outcome.ACCEPTED),
        (204, None, b"", None, Outcome.ACCEPTED),
        (200, "text/html", LOGIN, None, Outcome.LOGIN_PAGE),
        (200, "text/html; charset=utf-8", b"<html>Please sign in</html>", None, Outcome.LOGIN_PAGE),
        (200, "text/plain", b"<!DOCTYPE html><p>Log in</p>", None, Outcome.LOGIN_PAGE),
        (200, "text/html", b"<html>portal</html>", "application/json", Outcome.LOGIN_PAGE),
        (200, "application/json; charset=utf-8", b"{}", "application/json", Outcome.ACCEPTED),
        (200, "text/html", b"<html>status page</html>", None, Outcome.ACCEPTED),
        (401, "application/json", b"{}", None, Outcome.REFUSED),
        (403, "text/html", b"<html>blocked</html>", None, Outcome.REFUSED),
        (495, "text/html", b"", None, Outcome.REFUSED),
        (496, "text/html", b"", None, Outcome.REFUSED),
        (
            400,
            "text/html",
            b"<center>No required SSL certificate was sent</center>",
            None,
            Outcome.REFUSED,
        ),
        (400, "text/html", b"<center>The SSL certificate error</center>", None, Outcome.REFUSED),
        (400, "application/json", b'{"error":"bad json"}', None, Outcome.OTHER),
        (301, None, b"", None, Outcome.REDIRECT),
        (302, None, b"", None, Outcome.REDIRECT),
        (307, None, b"", None, Outcome.REDIRECT),
        (404, None, b"", None, Outcome.NOT_FOUND),
        (429, None, b"", None, Outcome.RATE_LIMITED),
        (500, None, b"", None, Outcome.SERVER_ERROR),
        (502, None, b"", None, Outcome.SERVER_ERROR),
        (503, None, b"", None, Outcome.SERVER_ERROR),
        (418, None, b"", None, Outcome.OTHER),
        (100, None, b"", None, Outcome.OTHER),
    ],
)
def test_classify_http(status, ctype, body, ref, outcome):
    assert classify_http(status, ctype, body, reference_content_type=ref) is outcome


def test_login_page_needs_html():
    assert not looks_like_login_page("application/json", b'{"login": "alice"}')
    assert looks_like_login_page("text/html", LOGIN)
