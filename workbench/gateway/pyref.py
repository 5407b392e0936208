"""The Python reference gateway: a threaded stdlib TLS server in front of the backend.

Run as ``python -m workbench.gateway.pyref --config SPEC.json``. SIGHUP re-reads the config
(modes, keys, CA, CRL) and swaps it in one reference assignment: a request already running
keeps the state it started with, new connections get the new TLS context. SIGTERM/SIGINT stop
accepting and wait (bounded) for requests in flight.

The TLS context uses ``CERT_OPTIONAL`` so the static-key path still works; a client that
sends an invalid certificate gets a TLS alert from the handshake (a proper refusal).
``GET /__gateway/config`` answers the id of the loaded config so a caller can tell a reload
has taken effect; it is not logged and reveals only a hash.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import signal
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import GatewayError
from workbench.gateway.authz import Decision, decide, peer_from_getpeercert, read_route_keys
from workbench.gateway.spec import GatewaySpec, Route
from workbench.gateway.tokenauth import check_bound_token, load_jwks
from workbench.states import GatewayMode

__all__ = ["AEAD_CIPHERS", "STATUS_PATH", "build_server_context", "load_state", "main"]

AEAD_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)
"""TLS 1.2 suites (req. 8): ECDHE + AEAD only. TLS 1.3 suites are all AEAD."""
STATUS_PATH = "/__gateway/config"
MAX_BODY = 1 << 20
_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def build_server_context(spec: GatewaySpec) -> ssl.SSLContext:
    """TLS >= 1.2, AEAD suites, optional client certs from the bundle, CRLs when configured."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(AEAD_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    try:
        ctx.load_cert_chain(spec.server_cert, spec.server_key)
        ctx.load_verify_locations(cafile=spec.client_ca_bundle)
        if spec.crl_file:
            ctx.load_verify_locations(cafile=spec.crl_file)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise GatewayError(
            f"gateway TLS material unusable ({why}): check server cert/key, CA bundle and CRL"
        ) from None
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


@dataclass(frozen=True)
class _State:
    """One loaded config: swapped as a whole on reload."""

    spec: GatewaySpec
    config_id: str
    ssl_ctx: ssl.SSLContext
    keys: dict[str, dict[str, str]]
    token_keys: list[dict[str, Any]] | None = None
    """The authorization server's public JWKs (mode ``mtls+token``), read at (re)load."""

    def route_for(self, path: str) -> Route | None:
        for r in self.spec.routes:
            if r.matches(path):
                return r
        return None


def load_state(config_path: str | Path) -> _State:
    """Read and check a config file completely; raise GatewayError without side effects."""
    try:
        raw = Path(config_path).read_bytes()
    except OSError as exc:
        raise GatewayError(f"{config_path}: cannot read gateway config ({exc.strerror})") from None
    spec = GatewaySpec.from_json(raw.decode("utf-8", "replace"), source=str(config_path))
    return _State(
        spec=spec,
        config_id=hashlib.sha256(raw).hexdigest(),
        ssl_ctx=build_server_context(spec),
        keys={r.api_id: read_route_keys(r) for r in spec.routes},
        token_keys=load_jwks(spec.token_jwks) if spec.uses_tokens and spec.token_jwks else None,
    )


class _AccessLog:
    """JSON Lines, one write per line under a lock; reopened on reload (log rotation)."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._fh = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def reopen(self, path: str) -> None:
        with self._lock:
            self._fh.close()
            self._path = path
            self._fh = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            self._fh.write(line)

    def close(self) -> None:
        with self._lock:
            self._fh.close()


class TLSThreadingServer(ThreadingHTTPServer):
    """A thread per connection, and the TLS handshake in that thread, so one slow client
    never blocks accept(). Subclasses say which context serves (it may change on reload).
    The lab's authorization server is one too."""

    daemon_threads = True
    block_on_close = False

    def tls_context(self) -> ssl.SSLContext:
        raise NotImplementedError

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(15)
        try:
            tls = self.tls_context().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except OSError:
            pass
        finally:
            tls.close()


class _Server(TLSThreadingServer):
    allow_reuse_address = True

    def __init__(self, state: _State) -> None:
        self.state = state
        self.access_log = _AccessLog(state.spec.access_log)
        self.inflight = 0
        self.inflight_lock = threading.Lock()
        super().__init__((state.spec.listen_host, state.spec.port), _Handler)

    def tls_context(self) -> ssl.SSLContext:
        return self.state.ssl_ctx


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "workbench-pyref"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the default stderr log: the JSON access log is the record."""

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def _handle(self) -> None:
        srv = self.server
        with srv.inflight_lock:
            srv.inflight += 1
        try:
            self._handle_in(srv.state)
        finally:
            with srv.inflight_lock:
                srv.inflight -= 1

    def _handle_in(self, state: _State) -> None:
        path = urlsplit(self.path).path
        if path == STATUS_PATH:
            self._send(200, state.config_id.encode() + b"\n", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._respond(state, None, path, Decision(413, "none", ""), {"error": "too large"})
            return
        body = self.rfile.read(length) if length else None
        route = state.route_for(path)
        if route is None:
            self._respond(state, None, path, Decision(404, "none", ""), {"error": "not found"})
            return
        peer = peer_from_getpeercert(self.connection.getpeercert())
        token = None
        if route.mode == GatewayMode.MTLS_TOKEN:
            token = check_bound_token(
                self.headers.get("Authorization"),
                self.connection.getpeercert(binary_form=True),
                audience=route.token_audience,
                keys=state.token_keys or [],
                issuer=state.spec.token_issuer,
                now=time.time(),
            )
        decision = decide(
            route,
            peer=peer,
            presented_key=self.headers.get(route.key_header),
            keys=state.keys.get(route.api_id, {}),
            token=token,
        )
        if decision.status:
            msg = "unauthorized" if decision.status == 401 else "forbidden"
            self._respond(state, route, path, decision, {"error": msg, "api": route.api_id})
            return
        self._proxy(state, route, path, decision, body)

    def _proxy(
        self, state: _State, route: Route, path: str, decision: Decision, body: bytes | None
    ) -> None:
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in _HOP
            and k.lower() != route.key_header.lower()
            and not k.lower().startswith("x-workbench-")
            # The backend trusts the gateway's identity headers; the bearer token stays here.
            and not (route.mode == GatewayMode.MTLS_TOKEN and k.lower() == "authorization")
        }
        headers.update(
            {
                "X-Workbench-Api": route.api_id,
                "X-Workbench-Auth": decision.auth,
                "X-Workbench-Identity": decision.identity,
            }
        )
        conn = http.client.HTTPConnection("127.0.0.1", state.spec.backend_port, timeout=10)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            ctype = resp.getheader("Content-Type", "application/octet-stream")
        except (OSError, http.client.HTTPException):
            self._respond(
                state,
                route,
                path,
                Decision(502, decision.auth, decision.identity),
                {"error": "bad gateway"},
            )
            return
        finally:
            conn.close()
        self._send(status, data, ctype)
        self._log(state, route, path, status, decision)

    def _respond(
        self, state: _State, route: Route | None, path: str, decision: Decision, obj: dict
    ) -> None:
        extra = {"WWW-Authenticate": decision.challenge} if decision.challenge else None
        self._send(decision.status, json.dumps(obj).encode() + b"\n", "application/json", extra)
        self._log(state, route, path, decision.status, decision)

    def _send(
        self, status: int, data: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _log(self, state: _State, route: Route | None, path: str, status: int, d: Decision) -> None:
        self.server.access_log.write(
            {
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "api": route.api_id if route else "",
                "method": self.command,
                "path": path,
                "status": status,
                "auth": d.auth,
                "identity": d.identity,
                "token_jti": d.token_jti,
                "token_fp": d.token_fp,
                "client_ip": self.client_address[0],
                "user_agent": self.headers.get("User-Agent", ""),
                "gateway": "python",
            }
        )


def serve(config_path: Path, *, drain_seconds: float = 5.0) -> int:
    """Run until SIGTERM/SIGINT; SIGHUP reloads. Returns the exit status."""
    try:
        state = load_state(config_path)
        server = _Server(state)
    except GatewayError as exc:
        print(f"pyref: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"pyref: cannot listen on port {state.spec.port}: {exc.strerror}", file=sys.stderr)
        return 2

    def on_hup(signum: int, frame: Any) -> None:
        try:
            new = load_state(config_path)
        except GatewayError as exc:
            print(f"pyref: reload refused, keeping the old config: {exc}", file=sys.stderr)
            return
        server.access_log.reopen(new.spec.access_log)
        server.state = new

    def on_term(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.socket.close()
        deadline = time.monotonic() + drain_seconds
        while server.inflight and time.monotonic() < deadline:
            time.sleep(0.01)  # draining in-flight requests, bounded by the deadline
        server.access_log.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.gateway.pyref", description="Python reference mTLS gateway."
    )
    parser.add_argument("--config", required=True, type=Path, help="gateway spec JSON file")
    parser.add_argument("--check", action="store_true", help="validate the config and exit")
    args = parser.parse_args(argv)
    if args.check:
        try:
            load_state(args.config)
        except GatewayError as exc:
            print(f"pyref: {exc}", file=sys.stderr)
            return 2
        return 0
    return serve(args.config)


if __name__ == "__main__":
    sys.exit(main())
