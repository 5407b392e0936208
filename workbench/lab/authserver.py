"""The sample environment's OAuth authorization server: certificate-bound tokens over mTLS.

``python -m workbench.lab.authserver --config AS.json`` runs a threaded stdlib TLS
server on loopback (``CERT_OPTIONAL`` against the client CA bundle, CRLs when given):

- ``POST /token`` with ``grant_type=client_credentials``. The client authenticates either
  by mTLS (RFC 8705 ``tls_client_auth``: the certificate's CN is the client_id and its
  SPIFFE URI SAN must be the one registered) or by ``private_key_jwt`` (RFC 7523: an
  assertion verified with the public key of a certificate registered for that client, its
  ``jti`` refused on replay, ``aud`` = this server's issuer URL). Either way the client must
  present its certificate on the connection: the token is bound to it (``cnf.x5t#S256``,
  RFC 8705 section 3). The audience is the ``resource`` (RFC 8707) asked for, one of the
  configured API URLs. Errors are RFC 6749 section 5.2 JSON.
- ``GET /jwks``: the public JWK Set; ``GET /.well-known/oauth-authorization-server``: RFC 8414
  metadata.
- ``/introspect-bound`` (any method, for nginx's ``auth_request``): headers
  ``Authorization``, ``X-Workbench-Client-Cert`` (``$ssl_client_escaped_cert``) and
  ``X-Workbench-Audience``; answers 200 or 401 from
  :func:`workbench.gateway.tokenauth.check_bound_token`. It returns nothing a holder of the
  public JWKS could not compute, so it needs no caller authentication.

The ES256 signing key is made at first start, 0600 in the 0700 state dir. Registered clients
live in a JSON file re-read when it changes (``{"clients": {id: {"spiffe_id": ...,
"cert_files": [...]}}}``). The event log (JSON Lines) names tokens and assertions by
fingerprint only, never by value (requirement 11).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from workbench.errors import TokenError, WorkbenchError
from workbench.gateway.authz import PeerCert, peer_from_getpeercert
from workbench.gateway.pyref import AEAD_CIPHERS, TLSThreadingServer
from workbench.gateway.tokenauth import cert_from_escaped_pem, check_bound_token, www_authenticate
from workbench.tokens import (
    ASSERTION_TYPE,
    issue_bound_token,
    jwk_thumbprint,
    public_jwk,
    token_fingerprint,
    verify_client_assertion,
)
from workbench.tokens._jose import parse_unverified
from workbench.workspace.atomic import atomic_write
from workbench.workspace.paths import ensure_private_dir

__all__ = ["OAuthError", "TokenService", "load_signing_key", "main"]

SIGNING_KEY = "as-signing.key"
JWKS_FILE = "jwks.json"
READY_FILE = "ready.json"
MAX_FORM = 64 * 1024


class OAuthError(Exception):
    """An RFC 6749 error response: ``error`` code, one-line description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def load_signing_key(state_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The ES256 key in ``state_dir`` (made 0600 on first use; a symlink is refused)."""
    ensure_private_dir(state_dir)
    path = state_dir / SIGNING_KEY
    if not os.path.lexists(path):
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        atomic_write(path, pem, mode=0o600)
        return key
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot open signing key safely ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fh.fileno()).st_mode & 0o077:
            raise WorkbenchError(f"{path}: signing key readable by others: chmod 600 it")
        key = serialization.load_pem_private_key(fh.read(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise WorkbenchError(f"{path}: not an EC key: delete it to make a new one")
    return key


@dataclass
class _Clients:
    """The client registry file, re-read when it changes (new certificates get registered)."""

    path: Path
    stamp: tuple[int, int, int] | None = None
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, client_id: str) -> dict[str, Any] | None:
        with self.lock:
            try:
                st = os.stat(self.path)
                stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
                if stamp != self.stamp:
                    self.clients = json.loads(self.path.read_text(encoding="utf-8"))["clients"]
                    self.stamp = stamp
            except (OSError, ValueError, KeyError, TypeError):
                self.clients, self.stamp = {}, None
            entry = self.clients.get(client_id)
            return entry if isinstance(entry, dict) else None


class TokenService:
    """The token endpoint's logic, separate from HTTP so it can be called directly."""

    def __init__(
        self, config: dict[str, Any], *, issuer: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        self.issuer = issuer
        self.key = key
        self.kid = jwk_thumbprint(key)
        self.jwk = {**public_jwk(key), "kid": self.kid, "alg": "ES256", "use": "sig"}
        self.lifetime = int(config.get("token_lifetime", 300))
        self.resources = tuple(config.get("resources", ()))
        self.clients = _Clients(Path(config["clients_file"]))
        self.seen_jtis: dict[str, int] = {}
        self.jti_lock = threading.Lock()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256", "EdDSA"],
            "tls_client_certificate_bound_access_tokens": True,
        }

    def _identity(self, client_id: str, peer: PeerCert) -> dict[str, Any]:
        entry = self.clients.get(client_id)
        if entry is None:
            raise OAuthError("invalid_client", f"client {client_id[:64]!r} is not registered", 401)
        if peer.cn != client_id or peer.uris != (entry.get("spiffe_id"),):
            raise OAuthError(
                "invalid_client",
                "the client certificate does not identify this client (CN and SPIFFE id)",
                401,
            )
        return entry

    def issue(
        self, form: dict[str, str], peer: PeerCert | None, cert_der: bytes | None, now: float
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Answer one token request: (response JSON, log fields). Raises OAuthError."""
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is missing")
        if grant != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
        log: dict[str, Any] = {}
        if "client_assertion" in form or "client_assertion_type" in form:
            log["method"] = "private_key_jwt"
            client_id = self._assertion_client(form, peer, cert_der, now, log)
        else:
            log["method"] = "tls_client_auth"
            if peer is None or cert_der is None:
                raise OAuthError(
                    "invalid_client", "present the client certificate or a client_assertion", 401
                )
            client_id = peer.cn or ""
            if form.get("client_id", client_id) != client_id:
                raise OAuthError("invalid_client", "client_id differs from the certificate", 401)
        log["client_id"] = client_id
        entry = self._identity(client_id, peer)  # type: ignore[arg-type]
        audience = form.get("resource") or form.get("audience")
        if audience is None and len(self.resources) == 1:
            audience = self.resources[0]
        if audience not in self.resources:
            raise OAuthError("invalid_target", "resource must be the URL of one of the APIs")
        token = issue_bound_token(
            signing_key=self.key, issuer=self.issuer, subject=entry["spiffe_id"],
            audience=audience, client_cert=cert_der, scope=form.get("scope", ""),
            lifetime=self.lifetime, now=now, client_id=client_id, kid=self.kid,
        )  # fmt: skip
        _, claims = parse_unverified(token)
        # x5t#S256 and exp let `workbench renew` name the tokens a renewal breaks.
        log.update(
            token_fp=token_fingerprint(token),
            jti=claims["jti"],
            aud=audience,
            x5t_s256=claims["cnf"]["x5t#S256"],
            exp=claims["exp"],
        )
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}
        if claims.get("scope"):
            body["scope"] = claims["scope"]
        return body, log

    def _assertion_client(
        self,
        form: dict[str, str],
        peer: PeerCert | None,
        cert_der: bytes | None,
        now: float,
        log: dict[str, Any],
    ) -> str:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError(
                "invalid_client", f"client_assertion_type must be {ASSERTION_TYPE}", 401
            )
        assertion = form.get("client_assertion", "")
        if not assertion:
            raise OAuthError("invalid_request", "client_assertion is missing")
        log["assertion_fp"] = token_fingerprint(assertion)
        if peer is None or cert_der is None:
            # Checked before the assertion so a refused request does not burn its jti.
            raise OAuthError(
                "invalid_request",
                "unbound: present the client certificate over mTLS; tokens are bound to it",
            )
        try:
            _, unverified = parse_unverified(assertion)
        except TokenError:
            raise OAuthError("invalid_client", "client_assertion is not a JWT", 401) from None
        client_id = str(unverified.get("iss", ""))
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_client", "client_id differs from the assertion's iss", 401)
        entry = self._identity(client_id, peer)
        keys = []
        for name in entry.get("cert_files", ()):
            try:
                keys.append(Path(name).read_bytes())
            except OSError:
                continue
        if not keys:
            raise OAuthError("invalid_client", "no registered certificate for this client", 401)
        try:
            with self.jti_lock:
                verify_client_assertion(
                    assertion, client_public_key=keys, audience=self.issuer, now=now,
                    seen_jtis=self.seen_jtis, client_id=client_id,
                )  # fmt: skip
        except TokenError as exc:
            raise OAuthError(
                "invalid_client", str(exc).removeprefix("invalid_client: "), 401
            ) from None
        return client_id


class _Server(TLSThreadingServer):
    def __init__(self, config: dict[str, Any], ctx: ssl.SSLContext, state_dir: Path) -> None:
        super().__init__(
            (config.get("listen_host", "127.0.0.1"), int(config.get("port", 0))), _Handler
        )
        self.ctx = ctx
        host, port = self.server_address[:2]
        issuer = config.get("issuer") or f"https://{host}:{port}"
        self.service = TokenService(config, issuer=issuer, key=load_signing_key(state_dir))
        self.log_lock = threading.Lock()
        self.log_fh = open(config["event_log"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def tls_context(self) -> ssl.SSLContext:
        return self.ctx

    def event(self, record: dict[str, Any]) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **record}
        with self.log_lock:
            self.log_fh.write(json.dumps(record, separators=(",", ":")) + "\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "workbench-authserver"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """The JSON event log is the record (and never holds a token)."""

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        svc = self.server.service
        if path == "/introspect-bound":
            return self._introspect()
        if path == "/jwks":
            return self._json(200, svc.jwks())
        if path == "/.well-known/oauth-authorization-server":
            return self._json(200, svc.metadata())
        return self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/introspect-bound":
            return self._introspect()
        if path != "/token":
            return self._json(404, {"error": "not_found"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM:
            return self._json(413, {"error": "invalid_request", "error_description": "too large"})
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = dict(parse_qsl(raw, keep_blank_values=True))
        peer = peer_from_getpeercert(self.connection.getpeercert())
        der = self.connection.getpeercert(binary_form=True)
        try:
            body, log = self.server.service.issue(form, peer, der, time.time())
        except OAuthError as exc:
            self._json(exc.status, {"error": exc.error, "error_description": exc.description})
            self.server.event(
                {"endpoint": "token", "status": exc.status, "error": exc.error,
                 "client_cn": peer.cn if peer else "",
                 "assertion_fp": token_fingerprint(form["client_assertion"])
                 if form.get("client_assertion") else ""}
            )  # fmt: skip
            return
        self._json(200, body)
        self.server.event({"endpoint": "token", "status": 200, **log})

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def _introspect(self) -> None:
        svc = self.server.service
        audience = self.headers.get("X-Workbench-Audience", "")
        if audience not in svc.resources:
            self._json(400, {"error": "invalid_request", "error_description": "unknown audience"})
            return
        check = check_bound_token(
            self.headers.get("Authorization"),
            cert_from_escaped_pem(self.headers.get("X-Workbench-Client-Cert")),
            audience=audience, keys=[svc.jwk], issuer=svc.issuer, now=time.time(),
        )  # fmt: skip
        headers = {"X-Workbench-Token-Fp": check.fingerprint}
        if check.ok:
            headers.update({"X-Workbench-Token": "ok", "X-Workbench-Token-Jti": check.jti})
            self._json(200, {"active": True}, headers)
        else:
            headers.update(
                {"X-Workbench-Token": "refused", "WWW-Authenticate": www_authenticate(check)}
            )
            self._json(401, {"active": False}, headers)
        self.server.event(
            {"endpoint": "introspect-bound", "status": 200 if check.ok else 401,
             "error": check.error, "reason": check.reason, "jti": check.jti,
             "token_fp": check.fingerprint, "aud": audience}
        )  # fmt: skip

    def _json(
        self, status: int, obj: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(obj).encode() + b"\n"
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def build_context(config: dict[str, Any]) -> ssl.SSLContext:
    """TLS >= 1.2, AEAD suites, optional client certificates from the bundle (+ CRLs)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(AEAD_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    ctx.load_cert_chain(config["server_cert"], config["server_key"])
    ctx.load_verify_locations(cafile=config["client_ca_bundle"])
    if config.get("crl_file"):
        ctx.load_verify_locations(cafile=config["crl_file"])
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def serve(config_path: Path) -> int:
    """Run until SIGTERM/SIGINT; write ``ready.json`` (port, issuer, jwks file) once listening."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        state_dir = Path(config["state_dir"])
        server = _Server(config, build_context(config), state_dir)
    except (OSError, ValueError, KeyError, ssl.SSLError, WorkbenchError) as exc:
        detail = str(exc) if isinstance(exc, WorkbenchError) else type(exc).__name__
        print(f"authserver: cannot start ({detail}): check {config_path}", file=sys.stderr)
        return 2
    svc = server.service
    atomic_write(state_dir / JWKS_FILE, json.dumps(svc.jwks(), indent=1).encode(), durable=False)
    ready = {
        "port": server.server_address[1],
        "issuer": svc.issuer,
        "jwks": str(state_dir / JWKS_FILE),
    }
    atomic_write(state_dir / READY_FILE, json.dumps(ready).encode(), durable=False)
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        server.log_fh.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m workbench.lab.authserver",
        description="Sample OAuth authorization server issuing certificate-bound tokens.",
    )
    p.add_argument("--config", required=True, type=Path, help="authorization server JSON config")
    return serve(p.parse_args(argv).config)


if __name__ == "__main__":
    sys.exit(main())
