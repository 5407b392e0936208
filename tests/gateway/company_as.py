"""A company's OAuth authorization server for the tests: NOT the lab's (its own ES256 key, its
own issuer, its own code), a real TLS server on 127.0.0.1.

``POST /token`` (``grant_type=client_credentials``, RFC 8705 ``tls_client_auth``): the client
presents its certificate (verified against the workspace CA); ``client_id``, if sent, must be
its CN; the token is an RFC 9068 JWT signed with joserfc (``issue_bound_token``), ``aud`` =
the ``resource`` asked for, bound to that certificate (``cnf.x5t#S256``). The test can also
mint tokens directly (``mint``) for the attacks.
"""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from operator_support import send_json

from workbench.gateway.pyref import TLSThreadingServer
from workbench.tokens import issue_bound_token

ISSUER = "https://auth.company.test/realms/payments"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(n).decode()))
        der = self.connection.getpeercert(binary_form=True)
        peer = self.connection.getpeercert() or {}
        cn = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "")
        uris = [v for k, v in peer.get("subjectAltName", ()) if k == "URI"]
        if self.path != "/oauth2/token" or form.get("grant_type") != "client_credentials":
            return self._send(400, {"error": "unsupported_grant_type"})
        if der is None or len(uris) != 1 or form.get("client_id", cn) != cn:
            return self._send(401, {"error": "invalid_client"})
        token = self.server.company.mint(
            der, audience=form.get("resource", ""), subject=uris[0], client_id=cn
        )
        self.server.company.issued.append(cn)
        self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})

    def _send(self, status: int, obj: dict) -> None:
        send_json(self, status, obj)


class _Server(TLSThreadingServer):
    def __init__(self, company: CompanyAS, ctx: ssl.SSLContext) -> None:
        self.company, self.ctx = company, ctx
        super().__init__(("127.0.0.1", company.port), _Handler)

    def tls_context(self) -> ssl.SSLContext:
        return self.ctx


class CompanyAS:
    """The key and the token endpoint (``start`` once the workspace CA exists)."""

    def __init__(self, directory: Path, port: int) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self.dir / "company-as.pub.pem"
        self.public_key.write_bytes(
            self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self.issued: list[str] = []
        self.server: _Server | None = None

    @property
    def token_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/oauth2/token"

    def mint(self, cert, *, audience: str, lifetime: float = 300, now: float | None = None,
             issuer: str = ISSUER, key=None, subject: str = "spiffe://acme.test/prod/shop",
             client_id: str = "shop") -> str:  # fmt: skip
        """A token bound to ``cert``, signed by this server's key (or ``key``)."""
        return issue_bound_token(
            signing_key=key or self.key, issuer=issuer, subject=subject, audience=audience,
            client_cert=cert, scope="orders", lifetime=lifetime,
            now=time.time() if now is None else now, client_id=client_id,
        )  # fmt: skip

    def start(self, *, server_cert: Path, server_key: Path, client_ca: Path) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(server_cert), str(server_key))
        ctx.load_verify_locations(cafile=str(client_ca))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.server = _Server(self, ctx)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
