"""Just enough HTTP/1.1 for a probe: one request out, one bounded response in.

h11 did this job first; at the full probe matrix its event machinery cost about a quarter
of the verifier's CPU per probe (bench/verify_rate.py), more than the rest of the Python
around the handshake. A probe needs little: the status, two headers (Content-Type,
Location) and at most ``limit`` bytes of body (Content-Length, chunked or read-to-close).
Anything that is not an HTTP/1.x response raises :class:`MalformedResponse` (never quoting
the server's bytes, which may echo the key); a close before any byte raises PeerClosed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workbench.verify.classify import MalformedResponse, PeerClosed

__all__ = ["Response", "read_response", "request_bytes"]

MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNK_LINE = 1024
"""A chunk-size line longer than this ends the body: a server streaming one endless line
would otherwise grow the buffer (and rescan it) until the deadline."""
_STATUS = re.compile(rb"HTTP/1\.[01] ([1-5][0-9][0-9])(?: [^\r\n]*)?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def request_bytes(
    method: str, target: str, headers: Sequence[tuple[str, str]], version: str = "HTTP/1.1"
) -> bytes:
    """The request head; refuses a name or value that could split the request."""
    if not _TOKEN.fullmatch(method) or not target.startswith("/") or " " in target:
        raise ValueError("bad request line")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise ValueError("bad HTTP version")
    lines = [f"{method} {target} {version}"]
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise ValueError(f"header {name!r} has a character HTTP/1.1 does not allow")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    """Lower-case names; the last of repeated headers."""
    body: bytes = b""
    truncated: bool = False


class _Reader:
    def __init__(self, recv: Callable[[], bytes]):
        self._recv = recv
        self.buf = bytearray()
        self.received = 0
        self.closed = False

    def more(self) -> bool:
        if self.closed:
            return False
        chunk = self._recv()
        if not chunk:
            self.closed = True
            return False
        self.received += len(chunk)
        self.buf += chunk
        return True


def _head(reader: _Reader) -> tuple[int, dict[str, str]]:
    while True:
        end = reader.buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        if len(reader.buf) > MAX_HEAD_BYTES:
            raise MalformedResponse("response head too large")
        if not reader.more():
            if reader.received == 0:
                raise PeerClosed()
            raise MalformedResponse("not an HTTP/1.1 response")
    head = bytes(reader.buf[:end])
    del reader.buf[: end + 4]
    status_line, _, rest = head.partition(b"\r\n")
    m = _STATUS.fullmatch(status_line)
    if m is None:
        raise MalformedResponse("not an HTTP/1.1 response")
    headers: dict[str, str] = {}
    for line in rest.split(b"\r\n") if rest else ():
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise MalformedResponse("malformed header line")
        headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
    return int(m.group(1)), headers


def _body(reader: _Reader, headers: dict[str, str], limit: int) -> tuple[bytes, bool]:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out = bytearray()
        while True:
            while b"\r\n" not in reader.buf:
                if len(reader.buf) > MAX_CHUNK_LINE or not reader.more():
                    return bytes(out[:limit]), len(out) > limit
            line, _, _ = bytes(reader.buf).partition(b"\r\n")
            del reader.buf[: len(line) + 2]
            try:
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                return bytes(out[:limit]), len(out) > limit  # status already known
            if size == 0:
                return bytes(out[:limit]), len(out) > limit
            while len(reader.buf) < size + 2 and len(out) + len(reader.buf) <= limit:
                if not reader.more():
                    break
            out += reader.buf[:size]
            del reader.buf[: size + 2]
            if len(out) > limit:
                return bytes(out[:limit]), True
    length = headers.get("content-length")
    want = int(length) if length and length.isdigit() else None
    cap = limit if want is None else min(want, limit)
    while len(reader.buf) < cap + (1 if want is None or want > limit else 0):
        if not reader.more():
            break
    data = bytes(reader.buf)
    truncated = len(data) > limit or (want is not None and want > limit)
    return data[: min(cap, len(data))], truncated


def read_response(recv: Callable[[], bytes], *, limit: int, head: bool = False) -> Response:
    """Read one response (skipping 1xx interim ones) with ``recv`` until its body ends, the
    peer closes, or ``limit`` body bytes are in. ``head``: the answer to a HEAD request,
    which has no body whatever its Content-Length says."""
    reader = _Reader(recv)
    while True:
        status, headers = _head(reader)
        if status >= 200:
            break
    if status in (204, 304) or head:
        return Response(status, headers)
    try:
        body, truncated = _body(reader, headers, limit)
    except OSError:
        body, truncated = b"", False  # a response arrived; a cut body does not change it
    return Response(status, headers, body, truncated)
