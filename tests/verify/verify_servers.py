"""Real servers for the verifier tests and bench: a configurable, misbehaving threaded
HTTPS server (stdlib ssl + http.server) and nginx run from its own prefix."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from testkit import free_port
from verify_pki import NEW_SPIFFE, OLD_KEY, SECOND_SPIFFE, Pki

MODES = (
    "correct",  # mTLS optional at TLS, 401 without a valid cert, 403 for another service
    "correct_tls",  # cert required at TLS: refusal is a TLS alert
    "accept_all",
    "accept_old_key",  # cut-over not done: old key still works
    "refuse_new_cert",  # 403 for any cert, 401 otherwise
    "waf_403",  # WAF page for everyone, before any control
    "status_500",  # control fine, everything else 500
    "all_500",
    "status_429",
    "status_404",
    "redirect_login",  # 302 to a 200 login page
    "login_page_200",  # 200 HTML login page instead of 401
    "portal_html",  # 200 HTML without login words: content type differs from the control
    "slow",  # answers after the client's timeout
    "plain_http",  # plain HTTP on the TLS port
    "eof_close",  # closes without alert or response unless the cert is valid
    "reset",  # RST unless the cert is valid
    "echo_key",  # echoes the presented key in a redirect and body (redaction test)
    "garbage_echo",  # answers non-HTTP bytes that contain the presented key
    "huge_body",  # 1 MiB answer to the new cert (bounded read), 401 otherwise
    # The classes of issue 9: each passed the old verifier while the old key still worked.
    "key_with_any_cert",  # cert required at TLS; the key honoured beside any valid cert
    "accepts_bearer",  # declared header refused, Authorization: Bearer <key> accepted
    "accepts_bare",  # ... bare Authorization: <key> accepted
    "accepts_query_api_key",  # ... ?api_key=<key> accepted (Kong/Google style)
    "accepts_query_access_token",  # ... ?access_token=<key> accepted
    "accepts_x_token",  # ... X-Token: <key> accepted (an inventory presented_as form)
    "unprotected_path",  # only the health path moved to mTLS; other paths take the key
    "post_takes_key",  # only GET protected; POST still takes the key
    "half_replicas",  # every second request with the key lands on a replica that takes it
    "allow_list_partial",  # the second consumer is missing from the allow-list (403)
    "echo_encoded",  # echoes whatever key it got (any form) hex/base64/percent-encoded
)

CONSUMERS = frozenset({NEW_SPIFFE, SECOND_SPIFFE})
_ACCEPTS = {
    "accepts_bearer": "bearer",
    "accepts_bare": "bare",
    "accepts_query_api_key": "query:api_key",
    "accepts_query_access_token": "query:access_token",
    "accepts_x_token": "header:X-Token",
}


@dataclass
class ServerLog:
    connections: int = 0
    sni: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    keys_seen: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    key_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def peer_spiffe(tls: ssl.SSLSocket) -> str | None:
    """SAN URI of the verified client certificate on ``tls``, if any."""
    cert = tls.getpeercert()
    if not cert:
        return None
    for kind, value in cert.get("subjectAltName", ()):
        if kind == "URI":
            return value
    return "cert-without-uri"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        self.request.settimeout(5)
        self.tls_ok = True
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.tls_ok = False
        super().setup()

    def handle(self) -> None:
        if self.server.mode == "plain_http":
            try:
                self.request.recv(4096)
                self.request.sendall(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            except OSError:
                pass
            return
        if self.tls_ok:
            with contextlib.suppress(OSError):
                super().handle()

    def _peer_spiffe(self) -> str | None:
        return peer_spiffe(self.request) if isinstance(self.request, ssl.SSLSocket) else None

    def _send(self, status: int, body: bytes, ctype: str = "application/json", **headers) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _key_forms(self) -> set[str]:
        """Every form in which this request carried the old key."""
        forms = set()
        if self.headers.get("X-API-Key") == OLD_KEY:
            forms.add("header")
        auth = self.headers.get("Authorization", "")
        if auth == f"Bearer {OLD_KEY}":
            forms.add("bearer")
        if auth == OLD_KEY:
            forms.add("bare")
        if self.headers.get("X-Token") == OLD_KEY:
            forms.add("header:X-Token")
        for name, values in parse_qs(urlsplit(self.path).query).items():
            if OLD_KEY in values:
                forms.add(f"query:{name}")
        return forms

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        srv = self.server
        key = self.headers.get("X-API-Key")
        forms = self._key_forms()
        with srv.log.lock:
            srv.log.hosts.append(self.headers.get("Host", ""))
            srv.log.methods.append(self.command)
            srv.log.user_agents.append(self.headers.get("User-Agent", ""))
            if key:
                srv.log.keys_seen.append(key)
            if forms:
                srv.log.key_requests += 1
            nth_key_request = srv.log.key_requests
        spiffe = self._peer_spiffe()
        good = spiffe == NEW_SPIFFE or (spiffe in CONSUMERS and srv.mode != "allow_list_partial")
        path = urlsplit(self.path).path
        if srv.mode in _ACCEPTS and _ACCEPTS[srv.mode] in forms:
            return self._send(200, json.dumps({"status": "ok"}).encode())
        if (
            (srv.mode == "key_with_any_cert" and spiffe and "header" in forms)
            or (srv.mode == "unprotected_path" and path != "/health" and "header" in forms)
            or (srv.mode == "post_takes_key" and self.command == "POST" and "header" in forms)
            or (srv.mode == "half_replicas" and "header" in forms and nth_key_request % 2 == 0)
        ):
            return self._send(200, json.dumps({"status": "ok"}).encode())
        ok = json.dumps({"status": "ok"}).encode()
        unauth = json.dumps({"error": "unauthorized"}).encode()
        mode = srv.mode
        if self.path == "/login":
            return self._send(
                200, b'<html><form><input type="password" name="pw"></form></html>', "text/html"
            )
        if mode == "slow":
            srv.stop.wait(srv.slow_seconds)
            return self._send(200, ok)
        if mode == "garbage_echo" and not good:
            self.wfile.write(f"BOGUS {key} nonsense\r\n\r\n".encode())
            self.close_connection = True
            return None
        if mode == "huge_body" and good:
            return self._send(200, b'{"pad": "' + b"x" * (1 << 20) + b'"}')
        if mode == "accept_all":
            return self._send(200, ok)
        if mode == "waf_403":
            return self._send(403, b"<html><h1>Request blocked</h1></html>", "text/html")
        if mode == "all_500":
            return self._send(500, b"oops", "text/plain")
        if mode == "refuse_new_cert":
            return self._send(403 if spiffe else 401, unauth)
        if mode == "accept_old_key":
            return self._send(200, ok) if good or key == OLD_KEY else self._send(401, unauth)
        if good:
            return self._send(200, ok)
        if spiffe is not None:  # a valid cert of someone else
            return self._send(403, json.dumps({"error": "forbidden"}).encode())
        if mode in ("correct", "correct_tls", "huge_body") or mode in _ISSUE9_MODES:
            return self._send(401, unauth)
        if mode in ("status_500", "status_429", "status_404"):
            return self._send(int(mode[-3:]), b"nope", "text/plain")
        if mode == "redirect_login":
            return self._send(302, b"", "text/html", Location="/login")
        if mode == "login_page_200":
            return self._send(
                200,
                b'<html><h1>Sign in</h1><input type="password" name="pw"></html>',
                "text/html",
            )
        if mode == "portal_html":
            return self._send(200, b"<html><p>Welcome to the portal</p></html>", "text/html")
        if mode == "echo_encoded" and forms:
            import base64

            raw = OLD_KEY.encode()
            echo = "&".join(
                [
                    f"h={raw.hex().upper()}",
                    f"l={raw.hex()}",
                    f"b={base64.b64encode(raw).decode()}",
                    f"u={base64.urlsafe_b64encode(raw).decode().rstrip('=')}",
                    "p=" + "".join(f"%{b:02x}" for b in raw),
                    "q=" + "".join(f"%{b:02X}" for b in raw),
                    f"a={base64.b64encode(raw + b':').decode()}",
                ]
            )
            return self._send(302, b"", "text/plain", Location=f"/login?{echo}")
        if mode == "echo_key":
            return self._send(
                302, f"your key {key}".encode(), "text/plain", Location=f"/login?k={key}"
            )
        if mode == "eof_close":
            self.close_connection = True
            return None
        if mode == "reset":
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return None
        raise AssertionError(f"unhandled mode {mode}")


_ISSUE9_MODES = frozenset(MODES[MODES.index("key_with_any_cert") :]) - {"echo_encoded"}


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # the verifier keeps 16 connections in flight

    def __init__(
        self,
        mode: str,
        ctx: ssl.SSLContext | None,
        slow_seconds: float,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.mode = mode
        self.ctx = ctx
        self.slow_seconds = slow_seconds
        self.stop = threading.Event()
        self.log = ServerLog()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        with self.log.lock:
            self.log.connections += 1
        if self.ctx is None:
            return sock, addr
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def shutdown_request(self, request) -> None:
        if self.mode == "reset":
            request.close()
            return
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        pass  # misbehaving on purpose; the client's view is what the tests assert


def main_sni(log: ServerLog) -> set[str | None]:
    """The SNI names a server saw, less the verifier's SNI corners (none, ``*.invalid``)."""
    return {s for s in log.sni if s is not None and not s.endswith(".invalid")}


@dataclass
class RunningServer:
    mode: str
    port: int
    log: ServerLog
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}/health"


def _server_context(pki: Pki, mode: str, tls_max: str | None) -> ssl.SSLContext | None:
    if mode == "plain_http":
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_max == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    if mode not in ("accept_all", "waf_403"):
        ctx.load_verify_locations(cafile=pki.ca)
        ctx.load_verify_locations(cafile=pki.crl)
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        required = mode in ("correct_tls", "key_with_any_cert")
        ctx.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
    return ctx


def start_server(
    pki: Pki,
    mode: str,
    *,
    tls_max: str | None = None,
    slow_seconds: float = 3.0,
    host: str = "127.0.0.1",
    port: int = 0,
):
    """Start a server thread on ``host`` (``::1`` for IPv6); returns (RunningServer, stop)."""
    assert mode in MODES
    ctx = _server_context(pki, mode, tls_max)
    srv = _Server(mode, ctx, slow_seconds, host, port)
    if ctx is not None:

        def record_sni(sslobj, name, _ctx):
            with srv.log.lock:
                srv.log.sni.append(name)

        ctx.sni_callback = record_sni
    th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    th.start()

    def stop() -> None:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        th.join(timeout=10)

    return RunningServer(mode, srv.server_address[1], srv.log, host), stop


# --- nginx (real gateway behaviour: 400/495/496 pages instead of TLS alerts) ---------------

NGINX = "/usr/sbin/nginx"

_NGINX_CONF = """
worker_processes 1;
{user}
daemon off;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_client_certificate {ca};
        ssl_crl {crl};
        ssl_verify_client {verify_client};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            default_type application/json;
            {extra}
            {verify_check}
            {authz}
            return 200 '{{"status":"ok"}}';
        }}
    }}
}}
"""


def _wait_listening(port: int, proc, deadline_s: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # polling a condition with a deadline
    raise RuntimeError(f"nginx did not listen on {port}")


# Misconfigurations of issue 9 as an operator would write them (``extra`` goes first in
# ``location /``). The key value is the tests' canary.
NGINX_KEY_WITH_ANY_CERT = (
    f'if ($http_x_api_key = "{OLD_KEY}") {{ return 200 \'{{"status":"ok"}}\'; }}'
)
NGINX_BEARER = (
    f'if ($http_authorization = "Bearer {OLD_KEY}") {{ return 200 \'{{"status":"ok"}}\'; }}'
)
NGINX_QUERY = f'if ($arg_api_key = "{OLD_KEY}") {{ return 200 \'{{"status":"ok"}}\'; }}'


def start_nginx(
    pki: Pki,
    workdir: Path,
    *,
    verify_client: str = "optional",
    authz: bool = True,
    check_verify: bool = True,
    extra: str = "",
):
    """Run nginx from its own prefix (``daemon off``); returns (port, stop). With ``authz``
    only the consumers' certs (CN=billing, CN=payroll) are allowed, others get 403. Without
    ``check_verify`` any presented certificate passes (what ``optional_no_ca`` setups do
    when they only look at the subject); ``extra`` is put first in ``location /``."""
    import signal
    import subprocess

    prefix = workdir / "nginx"
    (prefix / "tmp").mkdir(parents=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=port,
            cert=pki.server_cert,
            key=pki.server_key,
            ca=pki.ca,
            crl=pki.crl,
            verify_client=verify_client,
            extra=extra,
            verify_check=(
                """if ($ssl_client_verify != SUCCESS) { return 401 '{"error":"unauthorized"}'; }"""
                if check_verify
                else """if ($ssl_client_s_dn = "") { return 401 '{"error":"unauthorized"}'; }"""
            ),
            authz=(
                """if ($ssl_client_s_dn !~ "^CN=(billing|payroll)$") {"""
                """ return 403 '{"error":"forbidden"}'; }"""
                if authz
                else ""
            ),
        )
    )
    base = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", "stderr"]
    subprocess.run([*base, "-t", "-q"], check=True, capture_output=True)
    proc = subprocess.Popen(base, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise

    def stop() -> None:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    return port, stop
