"""A second kind of real misbehaving HTTPS server: one raw TLS socket per connection, a
hand-rolled HTTP/1.x reader that keeps every detail the verifier sends (SNI, ALPN, request
version, header names as written and repeated, cookies, keep-alive), and a behaviour
function that decides each answer. The adversarial tests in test_verify_hunt.py build the
servers an independent checker would: servers that honour the old key only in one corner
of the protocol, or that misbehave at the byte level (streams without end, slow drip).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from verify_pki import NEW_SPIFFE, SECOND_SPIFFE, Pki
from verify_servers import peer_spiffe

CONSUMERS = frozenset({NEW_SPIFFE, SECOND_SPIFFE})
OK = json.dumps({"status": "ok"}).encode()
UNAUTH = json.dumps({"error": "unauthorized"}).encode()


@dataclass
class Request:
    """One request as the server saw it."""

    conn_no: int
    """Connection number on this server (1 = first)."""
    req_no: int
    """Request number on this connection (1 = first; 2+ only on a kept-alive connection)."""
    sni: str | None
    alpn: str | None
    version: str
    """``HTTP/1.1`` or ``HTTP/1.0``."""
    method: str
    target: str
    headers: list[tuple[str, str]]
    """As sent: original case, repeats kept."""
    spiffe: str | None
    """SAN URI of a verified client certificate, if any."""

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def good(self) -> bool:
        return self.spiffe in CONSUMERS


Reply = tuple[int, bytes] | tuple[int, bytes, str] | bytes | None
"""(status, body[, content type]); raw bytes to send as they are; None to close silently."""


@dataclass
class HuntLog:
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0


def _response(reply: tuple, keep_alive: bool) -> bytes:
    status, body, *rest = reply
    ctype = rest[0] if rest else "application/json"
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


def _read_request(tls: ssl.SSLSocket, buf: bytearray) -> tuple[str, str, str, list] | None:
    while b"\r\n\r\n" not in buf:
        chunk = tls.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf[:] = rest
    line, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = line.split(" ", 2)
    headers = [(n.strip(), v.strip()) for n, _, v in (x.partition(":") for x in lines)]
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
    while len(buf) < length:
        chunk = tls.recv(65536)
        if not chunk:
            return None
        buf += chunk
    del buf[:length]
    return method, target, version, headers


class HuntServer:
    """A threaded TLS server; ``behave(request) -> Reply`` answers each request."""

    def __init__(
        self,
        pki: Pki,
        behave: Callable[[Request], Reply],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cert_required: bool = False,
        alpn: tuple[str, ...] = (),
        raw: Callable[[ssl.SSLSocket, HuntLog], None] | None = None,
    ) -> None:
        self.behave = behave
        self.raw = raw
        self.log = HuntLog()
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(pki.server_cert, pki.server_key)
        self.ctx.load_verify_locations(cafile=pki.ca)
        self.ctx.load_verify_locations(cafile=pki.crl)
        self.ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        self.ctx.verify_mode = ssl.CERT_REQUIRED if cert_required else ssl.CERT_OPTIONAL
        if alpn:
            self.ctx.set_alpn_protocols(list(alpn))
        self._sni: dict[int, str | None] = {}

        def record_sni(sslobj, name, _ctx):
            self._sni[id(sslobj)] = name

        self.ctx.sni_callback = record_sni
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        self.sock.settimeout(0.05)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}/health"

    def _accept(self) -> None:
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.log.lock:
                self.log.connections += 1
                n = self.log.connections
            t = threading.Thread(target=self._serve, args=(conn, n), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket, conn_no: int) -> None:
        conn.settimeout(10)
        with contextlib.suppress(OSError), conn:
            tls = self.ctx.wrap_socket(conn, server_side=True)
            with tls:
                self._converse(tls, conn_no)

    def _converse(self, tls: ssl.SSLSocket, conn_no: int) -> None:
        if self.raw is not None:
            self.raw(tls, self.log)
            return
        sni = self._sni.pop(id(tls), None)
        spiffe = peer_spiffe(tls)
        if tls.selected_alpn_protocol() == "h2":
            self._converse_h2(tls, conn_no, sni, spiffe)
            return
        buf = bytearray()
        req_no = 0
        while not self.stop_event.is_set():
            got = _read_request(tls, buf)
            if got is None:
                return
            method, target, version, headers = got
            req_no += 1
            req = Request(conn_no, req_no, sni, tls.selected_alpn_protocol(), version,
                          method, target, headers, spiffe)  # fmt: skip
            with self.log.lock:
                self.log.requests.append(req)
            reply = self.behave(req)
            if reply is None:
                return
            if isinstance(reply, bytes):
                tls.sendall(reply)
                return
            close = version == "HTTP/1.0" or any(
                v.lower() == "close" for v in req.header_values("Connection")
            )
            tls.sendall(_response(reply, not close))
            if close:
                return

    def _converse_h2(self, tls: ssl.SSLSocket, conn_no: int, sni, spiffe) -> None:
        import h2.config
        import h2.connection
        import h2.events

        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="latin-1")
        )
        conn.initiate_connection()
        tls.sendall(conn.data_to_send())
        req_no = 0
        while not self.stop_event.is_set():
            data = tls.recv(65536)
            if not data:
                return
            for ev in conn.receive_data(data):
                if not isinstance(ev, h2.events.RequestReceived):
                    continue
                fields = [(str(k), str(v)) for k, v in ev.headers]
                pseudo = dict(f for f in fields if f[0].startswith(":"))
                req_no += 1
                req = Request(conn_no, req_no, sni, "h2", "HTTP/2", pseudo[":method"],
                              pseudo[":path"], [f for f in fields if not f[0].startswith(":")],
                              spiffe)  # fmt: skip
                with self.log.lock:
                    self.log.requests.append(req)
                status, body, *rest = self.behave(req)
                ctype = rest[0] if rest else "application/json"
                conn.send_headers(ev.stream_id, [(":status", str(status)),
                                                 ("content-type", ctype),
                                                 ("content-length", str(len(body)))])  # fmt: skip
                conn.send_data(ev.stream_id, body, end_stream=True)
            tls.sendall(conn.data_to_send())

    def stop(self) -> None:
        self.stop_event.set()
        self.sock.close()
        self.acceptor.join(timeout=5)
        for t in self.threads:
            t.join(timeout=5)
