"""A minimal blocking TLS client connection: a socket + ``ssl.SSLObject`` over memory BIOs.

Why memory BIOs and not ``SSLContext.wrap_socket``: a TLS 1.3 server refuses a client
certificate only after the handshake, sends its alert and closes. If the server's RST
arrives before the request is written, the write fails (``EPIPE``) and a wrapped socket
would report that ambiguous reset. Linux keeps received data readable after an RST, so this
client, on a failed send, keeps reading and decrypting what the server sent before it gives
up; the alert then surfaces as the ``ssl.SSLError`` (reason
``TLSV13_ALERT_CERTIFICATE_REQUIRED`` ...) it really is.

Why blocking, in threads, rather than asyncio: OpenSSL releases the GIL during the
handshake, so a pool of threads keeps both cores busy, and the per-probe cost stays close to
a bare ``ssl`` loop (bench/verify_rate.py); an event loop added about 1 ms of Python per
probe here, more than the handshake itself.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time

from workbench.verify.classify import ServerNameMismatch

__all__ = ["TLSConnection", "check_server_name", "names_host"]

_RECV = 65536


class TLSConnection:
    """One fresh TLS connection (no session resumption, no pooling) with an absolute
    deadline for everything it does. Use as a context manager; the socket is closed on exit."""

    def __init__(
        self, ip: str, port: int, context: ssl.SSLContext, server_hostname: str, deadline: float
    ):
        self._ip = ip
        self._port = port
        self._context = context
        self._server_hostname = server_hostname
        self._deadline = deadline
        self._sock: socket.socket | None = None
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self.tls: ssl.SSLObject | None = None
        self._send_error: OSError | None = None
        self._eof = False

    def __enter__(self) -> TLSConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _arm(self) -> socket.socket:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        assert self._sock is not None
        self._sock.settimeout(left)
        return self._sock

    def connect(self) -> None:
        """TCP connect and TLS handshake (raises OSError / ssl.SSLError as they come)."""
        family = socket.AF_INET6 if ":" in self._ip else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm().connect((self._ip, self._port))
        self.tls = self._context.wrap_bio(
            self._in, self._out, server_side=False, server_hostname=self._server_hostname
        )
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self._flush()

    def send(self, data: bytes) -> None:
        """Encrypt and send. A failed send is remembered, not raised: the server may have
        said why it closed (an alert) in bytes still waiting to be read."""
        assert self.tls is not None
        self.tls.write(data)
        self._flush()

    def recv(self) -> bytes:
        """Next decrypted bytes; b"" at a clean close. Raises the server's alert as
        ``ssl.SSLError``, or the remembered send error when nothing explains the close."""
        assert self.tls is not None
        while True:
            try:
                return self.tls.read(_RECV)
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLEOFError:
                if self._send_error is not None:
                    raise self._send_error from None
                raise
            except ssl.SSLWantReadError:
                if self._eof:
                    if self._send_error is not None:
                        raise self._send_error from None
                    raise
                self._fill()

    def _flush(self) -> None:
        data = self._out.read()
        if not data or self._send_error is not None:
            return  # nothing to send, or nowhere to send it
        try:
            self._arm().sendall(data)
        except TimeoutError:
            raise
        except OSError as exc:
            self._send_error = exc

    def _fill(self) -> None:
        try:
            data = self._arm().recv(_RECV)
        except TimeoutError:
            raise
        except OSError:
            if self._send_error is None and not self._eof:
                raise
            data = b""
        if data:
            self._in.write(data)
        else:
            self._eof = True
            self._in.write_eof()


def names_host(cert: dict, host: str) -> bool:
    """Whether a verified peer certificate (``SSLObject.getpeercert()``) names ``host``:
    an IP SAN for an address, else a DNS SAN equal to it or a wildcard for its left-most
    label (RFC 6125), compared case-insensitively."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for kind, value in cert.get("subjectAltName", ()):
        if ip is not None and kind == "IP Address":
            try:
                if ipaddress.ip_address(value.strip()) == ip:
                    return True
            except ValueError:
                continue
        elif ip is None and kind == "DNS":
            name = value.rstrip(".").lower()
            if name == host:
                return True
            if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
                return True
    return False


def check_server_name(tls: ssl.SSLObject, host: str) -> None:
    """For a connection made without hostname checking (another SNI, or none): raise
    :class:`ServerNameMismatch` unless the verified server certificate names ``host``."""
    cert = tls.getpeercert()
    if not cert or not names_host(cert, host):
        raise ServerNameMismatch(host)
