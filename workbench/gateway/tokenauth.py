"""The bound-token check of mode ``mtls+token``: one function both gateways end up running.

The Python gateway calls :func:`check_bound_token` in-process. nginx cannot verify a JWT
without njs, so its ``auth_request`` subrequest asks the authorization server's
``/introspect-bound`` endpoint (:mod:`workbench.lab.authserver`), passing the
``Authorization`` header, the verified client certificate (``$ssl_client_escaped_cert``) and
the route's audience; that endpoint calls this same function. Both therefore decide with
:func:`workbench.tokens.verify_bound_token`: signature by the authorization server's key,
``exp``/``nbf``, ``iss``, ``aud`` = the API's URL, and ``cnf.x5t#S256`` = the thumbprint of
the certificate on this connection (RFC 8705 section 3).

Nothing here returns or logs a token: only its ``jti`` (once the signature checked out) and
its fingerprint (first 12 hex of SHA-256, requirement 11).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from workbench.errors import GatewayError, TokenError
from workbench.tokens import token_fingerprint, verify_bound_token

__all__ = [
    "TokenCheck",
    "bearer_token",
    "cert_from_escaped_pem",
    "check_bound_token",
    "load_jwks",
    "www_authenticate",
]

REALM = "workbench"
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9._~+/-]+=*) *$", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:;()#/_+=-]")


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of checking the access token of one request; safe to log."""

    ok: bool
    """True when the token is valid and bound to the presented certificate."""
    error: str
    """``""`` when ok; ``missing`` (no Bearer token), ``invalid_request`` (malformed header)
    or ``invalid_token``."""
    reason: str
    """One line saying why it was refused (never contains the token)."""
    jti: str = ""
    """The token's ``jti`` (only once its signature verified)."""
    fingerprint: str = ""
    """First 12 hex of SHA-256 of the token, or empty when there was none."""
    subject: str = ""
    """The token's ``sub`` when ok."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    m = _BEARER.match(authorization.strip())
    return m.group(1) if m else None


def cert_from_escaped_pem(value: str | None) -> bytes | None:
    """nginx's ``$ssl_client_escaped_cert`` (URL-escaped PEM) as PEM bytes, or None."""
    if not value:
        return None
    pem = unquote(value).encode("ascii", "replace")
    return pem if pem.startswith(b"-----BEGIN CERTIFICATE-----") else None


def check_bound_token(
    authorization: str | None,
    client_cert: bytes | None,
    *,
    audience: str,
    keys: Any,
    issuer: str | None,
    now: datetime | float | int,
) -> TokenCheck:
    """Check an ``Authorization`` header against the certificate of this connection.

    ``client_cert`` is the verified client certificate (DER or PEM) or None; ``keys`` the
    authorization server's public keys (JWKs, PEM or key objects). Never raises for a bad
    token: the refusal is in the result.
    """
    if not authorization:
        return TokenCheck(False, "missing", "no access token (send Authorization: Bearer)")
    token = bearer_token(authorization)
    if token is None:
        return TokenCheck(False, "invalid_request", "Authorization is not a Bearer token")
    fp = token_fingerprint(token)
    if client_cert is None:
        return TokenCheck(
            False, "invalid_token", "no client certificate: this token is certificate-bound", "", fp
        )
    try:
        claims = verify_bound_token(
            token, issuer_public_keys=keys, audience=audience, presented_cert=client_cert,
            now=now, issuer=issuer,
        )  # fmt: skip
    except TokenError as exc:
        reason = str(exc).removeprefix("invalid_token: ")
        return TokenCheck(False, "invalid_token", reason, "", fp)
    return TokenCheck(
        True, "", "", str(claims.get("jti", ""))[:64], fp, str(claims.get("sub", ""))[:200]
    )


def _quoted(text: str) -> str:
    return _UNSAFE.sub("", text)[:160]


def www_authenticate(check: TokenCheck | None) -> str:
    """The RFC 6750 challenge for a refusal: no error code when no token was sent."""
    if check is None or check.error == "missing":
        return f'Bearer realm="{REALM}"'
    return (
        f'Bearer realm="{REALM}", error="{check.error or "invalid_token"}", '
        f'error_description="{_quoted(check.reason)}"'
    )


def load_jwks(path: str | Path) -> list[dict[str, Any]]:
    """The public keys of a JWK Set file (``{"keys": [...]}``); private members refused."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        keys = data["keys"]
        if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
            raise ValueError("keys")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GatewayError(
            f"{path}: not a JWK Set ({type(exc).__name__}): start the token server first"
        ) from None
    for k in keys:
        if "d" in k:
            raise GatewayError(f"{path}: JWK Set holds a private key: publish public keys only")
    return keys
