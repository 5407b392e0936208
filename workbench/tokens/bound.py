"""RFC 8705 certificate-bound access tokens: issue them, and verify them against the
client certificate presented on the mTLS connection.

A bound token carries ``cnf: {"x5t#S256": <thumbprint of the client cert>}``; a resource
server that sees it on a connection with another certificate answers 401 ``invalid_token``.
Renewing the client certificate changes the thumbprint, so tokens bound to the old one stop
working: that is intended.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from workbench.errors import TokenError
from workbench.tokens._jose import InvalidTokenError, epoch, new_jti, sign, verify_signature
from workbench.tokens.thumbprints import is_wellformed_thumbprint, x5t_s256

__all__ = ["issue_bound_token", "verify_bound_token"]

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105  (a media type, not a secret)
"""RFC 9068 ``typ`` of a JWT access token."""


def issue_bound_token(
    *,
    signing_key: Any,
    issuer: str,
    subject: str,
    audience: str,
    client_cert: x509.Certificate | bytes | str,
    scope: str | Sequence[str],
    lifetime: timedelta | float | int,
    now: datetime | float | int,
    client_id: str | None = None,
    alg: str | None = None,
    jti: str | None = None,
    kid: str | None = None,
) -> str:
    """A JWT access token (RFC 9068 shape) bound to ``client_cert`` (RFC 8705 section 3).

    ``alg`` follows ``signing_key``: an EC P-256 key (the default choice) gives ES256.
    """
    seconds = lifetime.total_seconds() if isinstance(lifetime, timedelta) else lifetime
    if isinstance(seconds, bool) or seconds <= 0:
        raise TokenError("lifetime must be a positive number of seconds")
    for name, value in (("issuer", issuer), ("subject", subject), ("audience", audience)):
        if not value or not isinstance(value, str):
            raise TokenError(f"{name} must be a non-empty string")
    scope_text = scope if isinstance(scope, str) else " ".join(scope)
    iat = epoch(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": iat,
        "nbf": iat,
        "exp": iat + int(seconds),
        "jti": jti or new_jti(),
        "client_id": client_id or subject,
        "scope": scope_text,
        "cnf": {"x5t#S256": x5t_s256(client_cert)},
    }
    header = {"typ": ACCESS_TOKEN_TYP}
    if kid:
        header["kid"] = kid
    return sign(header, claims, signing_key, alg=alg)


def verify_bound_token(
    token: str,
    *,
    issuer_public_keys: Any,
    audience: str,
    presented_cert: x509.Certificate | bytes | str,
    now: datetime | float | int,
    issuer: str | None = None,
    leeway: int = 0,
) -> dict[str, Any]:
    """Verify a certificate-bound access token as a resource server must; return its claims.

    ``issuer_public_keys`` is one key (public, private, certificate, PEM or JWK) or a list.
    Raises InvalidTokenError (``invalid_token``) on a refused algorithm, a bad signature,
    expiry, a future ``nbf``/``iat``, a wrong ``aud``/``iss``, a missing or malformed
    ``cnf.x5t#S256``, or a thumbprint that differs from ``presented_cert``'s.
    """
    _, claims = verify_signature(token, issuer_public_keys)
    options: dict[str, Any] = {
        "exp": {"essential": True},
        "aud": {"essential": True, "value": audience},
    }
    if issuer is not None:
        options["iss"] = {"essential": True, "value": issuer}
    try:
        JWTClaimsRegistry(now=epoch(now), leeway=leeway, **options).validate(claims)
    except JoseError as exc:
        raise InvalidTokenError(f"invalid_token: {exc.error}: {exc.description}") from exc
    cnf = claims.get("cnf")
    bound = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    if bound is None:
        raise InvalidTokenError(
            "invalid_token: not certificate-bound (no cnf.x5t#S256); refuse bearer tokens here"
        )
    if not is_wellformed_thumbprint(bound):
        raise InvalidTokenError(
            "invalid_token: cnf.x5t#S256 is malformed (need 43 base64url chars)"
        )
    if not hmac.compare_digest(bound, x5t_s256(presented_cert)):
        raise InvalidTokenError(
            "invalid_token: bound to another certificate (cnf.x5t#S256 mismatch); "
            "get a new token over this certificate"
        )
    return claims
