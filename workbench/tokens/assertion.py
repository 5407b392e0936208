"""RFC 7523 ``private_key_jwt`` client assertions: make them, and check them on the server.

A client assertion replaces a client secret at the token endpoint: the client signs a
short-lived JWT (``iss`` = ``sub`` = its client_id, ``aud`` = the authorization server, a
unique ``jti``) with its private key. FAPI 2 wants ``aud`` as a single string.
"""

from __future__ import annotations

from collections.abc import MutableMapping, MutableSet
from datetime import datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from workbench.errors import TokenError
from workbench.tokens._jose import InvalidClientError, epoch, new_jti, sign, verify_signature

__all__ = [
    "ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "assertion_form",
    "client_assertion",
    "verify_client_assertion",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
"""The ``client_assertion_type`` form value for a JWT bearer client assertion."""

MAX_ASSERTION_LIFETIME = 300
"""Longest ``exp - iat`` (seconds) we issue or accept for an assertion."""


def _seconds(value: timedelta | float | int) -> int:
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or seconds <= 0:
        raise TokenError("lifetime must be a positive number of seconds")
    return int(seconds)


def client_assertion(
    *,
    client_id: str,
    audience: str,
    private_key: Any,
    now: datetime | float | int,
    alg: str | None = None,
    lifetime: timedelta | float | int = 60,
    jti: str | None = None,
    kid: str | None = None,
) -> str:
    """A signed RFC 7523 client assertion (compact JWT) for ``client_id``.

    ``alg`` follows the key (EC P-256 -> ES256, RSA >= 2048 -> PS256, Ed25519 -> EdDSA);
    any other key or algorithm raises TokenError. ``lifetime`` is capped at
    MAX_ASSERTION_LIFETIME seconds.
    """
    if not client_id or not isinstance(client_id, str):
        raise TokenError("client_id must be a non-empty string (the service id)")
    if not audience or not isinstance(audience, str):
        raise TokenError("audience must be one string: the authorization server's issuer URL")
    life = _seconds(lifetime)
    if life > MAX_ASSERTION_LIFETIME:
        raise TokenError(
            f"lifetime {life}s is too long for a client assertion: use <= {MAX_ASSERTION_LIFETIME}s"
        )
    iat = epoch(now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": iat,
        "exp": iat + life,
        "jti": jti or new_jti(),
    }
    header = {"typ": "JWT"}
    if kid:
        header["kid"] = kid
    return sign(header, claims, private_key, alg=alg)


def assertion_form(assertion: str, *, client_id: str | None = None) -> dict[str, str]:
    """The token-endpoint form fields that carry ``assertion`` (RFC 7521 section 4.2)."""
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    if client_id:
        form["client_id"] = client_id
    return form


def verify_client_assertion(
    assertion: str,
    *,
    client_public_key: Any,
    audience: str,
    now: datetime | float | int,
    seen_jtis: MutableSet[str] | MutableMapping[str, int],
    client_id: str | None = None,
    leeway: int = 0,
    max_lifetime: int = MAX_ASSERTION_LIFETIME,
) -> dict[str, Any]:
    """Check an assertion the way a token endpoint must; return its claims.

    Raises InvalidClientError on a refused algorithm, bad signature, ``iss`` != ``sub``
    (or != ``client_id`` when given), wrong ``aud`` (must equal ``audience``), expiry, a
    lifetime over ``max_lifetime``, a missing claim, or a replayed ``jti``. ``seen_jtis`` is
    the replay cache: a set, or a mapping ``jti -> exp`` whose expired entries are pruned.
    The ``jti`` is recorded only once every other check has passed.
    """
    _, claims = verify_signature(assertion, client_public_key, error=InvalidClientError)
    ts = epoch(now)
    options: dict[str, Any] = {
        "iss": {"essential": True},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "jti": {"essential": True},
    }
    try:
        JWTClaimsRegistry(now=ts, leeway=leeway, **options).validate(claims)
    except JoseError as exc:
        raise InvalidClientError(f"invalid_client: {exc.error}: {exc.description}") from exc
    if claims["iss"] != claims["sub"]:
        raise InvalidClientError("invalid_client: iss and sub differ (both must be the client_id)")
    if client_id is not None and claims["iss"] != client_id:
        raise InvalidClientError("invalid_client: the assertion names another client")
    if claims.get("aud") != audience:
        raise InvalidClientError(
            "invalid_client: aud must be exactly this authorization server (one string)"
        )
    if claims["exp"] - claims["iat"] > max_lifetime:
        raise InvalidClientError(
            f"invalid_client: assertion lifetime over {max_lifetime}s; make short-lived ones"
        )
    jti = claims["jti"]
    if isinstance(seen_jtis, MutableMapping):
        for old in [k for k, exp in seen_jtis.items() if exp + leeway < ts]:
            del seen_jtis[old]
    if jti in seen_jtis:
        raise InvalidClientError(f"invalid_client: jti {jti[:64]!r} was already used (replay)")
    if isinstance(seen_jtis, MutableMapping):
        seen_jtis[jti] = int(claims["exp"])
    else:
        seen_jtis.add(jti)
    return claims
