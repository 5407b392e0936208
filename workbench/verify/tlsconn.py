"""A minimal asyncio TLS client connection: non-blocking socket + ``ssl.SSLObject`` over
memory BIOs, driven with ``loop.sock_*``.

Why not ``asyncio.open_connection(ssl=...)``: a TLS 1.3 server refuses a client certificate
only after the handshake, sends its alert and closes. Measured here at concurrency 8, about
half of such refusals reached an asyncio stream as ``EPIPE`` on the request write: the
server's RST had arrived, the transport died on the failed write, and the alert sitting in
the socket buffer was never read, so a clear refusal became an ambiguous reset. Linux keeps
received data readable after an RST, so this client, on a failed send, keeps reading and
decrypting what the server sent before it gives up; the alert then surfaces as the
``ssl.SSLError`` (reason ``TLSV13_ALERT_CERTIFICATE_REQUIRED`` ...) it really is.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

__all__ = ["TLSConnection"]

_RECV = 65536


class TLSConnection:
    """One fresh TLS connection (no session resumption, no pooling). Use as an async
    context manager; the socket is closed on exit."""

    def __init__(self, ip: str, port: int, context: ssl.SSLContext, server_hostname: str):
        self._ip = ip
        self._port = port
        self._context = context
        self._server_hostname = server_hostname
        self._sock: socket.socket | None = None
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self.tls: ssl.SSLObject | None = None
        self._send_error: OSError | None = None
        self._eof = False

    async def __aenter__(self) -> TLSConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    async def connect(self) -> None:
        """TCP connect and TLS handshake (raises OSError / ssl.SSLError as they come)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self._ip else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock = sock
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, (self._ip, self._port))
        self.tls = self._context.wrap_bio(
            self._in, self._out, server_side=False, server_hostname=self._server_hostname
        )
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
        await self._flush()

    async def send(self, data: bytes) -> None:
        """Encrypt and send. A failed send is remembered, not raised: the server may have
        said why it closed (an alert) in bytes still waiting to be read."""
        assert self.tls is not None
        self.tls.write(data)
        await self._flush()

    async def recv(self) -> bytes:
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
                await self._fill()

    async def _flush(self) -> None:
        if self._send_error is not None:
            self._out.read()  # nowhere to send it
            return
        data = self._out.read()
        if data:
            try:
                await asyncio.get_running_loop().sock_sendall(self._sock, data)
            except OSError as exc:
                self._send_error = exc

    async def _fill(self) -> None:
        try:
            data = await asyncio.get_running_loop().sock_recv(self._sock, _RECV)
        except OSError:
            if self._send_error is None and not self._eof:
                raise
            data = b""
        if data:
            self._in.write(data)
        else:
            self._eof = True
            self._in.write_eof()
