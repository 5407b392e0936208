"""The probe's HTTP/1.1 reader, unit by unit (the servers in the other tests use it for real)."""

from __future__ import annotations

import pytest

from workbench.verify.classify import MalformedResponse, PeerClosed
from workbench.verify.http1 import read_response, request_bytes


def feeder(*chunks: bytes):
    parts = list(chunks)
    return lambda: parts.pop(0) if parts else b""


def test_content_length_body_in_pieces():
    r = read_response(
        feeder(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Le",
               b"ngth: 12\r\n\r\n{\"ok\": ", b"true}"),
        limit=100,
    )  # fmt: skip
    assert (r.status, r.headers["content-type"], r.body, r.truncated) == (
        200, "application/json", b'{"ok": true}', False
    )  # fmt: skip


def test_chunked_body_and_interim_response():
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /x\r\n"
    raw += b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
    r = read_response(feeder(raw), limit=100)
    assert (r.status, r.headers["location"], r.body) == (302, "/x", b"abcde")


def test_body_is_bounded_and_read_to_close_without_length():
    r = read_response(feeder(b"HTTP/1.0 200 OK\r\n\r\n", b"x" * 70, b"y" * 70), limit=100)
    assert len(r.body) == 100 and r.truncated
    r = read_response(feeder(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", b"z" * 500),
                      limit=100)  # fmt: skip
    assert len(r.body) == 100 and r.truncated
    r = read_response(feeder(b"HTTP/1.1 401 No\r\n\r\n"), limit=100)
    assert (r.status, r.body, r.truncated) == (401, b"", False)


def test_no_bytes_is_peer_closed_and_garbage_is_malformed_without_echo():
    with pytest.raises(PeerClosed):
        read_response(feeder(), limit=10)
    with pytest.raises(MalformedResponse) as info:
        read_response(feeder(b"BOGUS secret-value nonsense\r\n\r\n"), limit=10)
    assert "secret-value" not in str(info.value)
    with pytest.raises(MalformedResponse):
        read_response(feeder(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), limit=10)
    with pytest.raises(MalformedResponse):
        read_response(feeder(b"HTTP/1.1 200 OK\r\nHalf a head"), limit=10)


def test_request_cannot_be_split():
    assert request_bytes("POST", "/a?b=1", [("Host", "h"), ("Content-Length", "0")]) == (
        b"POST /a?b=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
    )
    for headers in ([("X-A", "v\r\nX-Evil: 1")], [("X A", "v")], [("X-A", "v\n")]):
        with pytest.raises(ValueError):
            request_bytes("GET", "/", headers)
    with pytest.raises(ValueError):
        request_bytes("GET", "/a b", [])
