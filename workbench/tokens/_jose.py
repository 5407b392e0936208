"""Shared JOSE plumbing for the token modules: keys, algorithms, signing, parsing.

All JWS work goes through joserfc; this module only decides *which* keys and algorithms are
acceptable (security requirement 7: RSA >= 2048, EC P-256, Ed25519; JWT algorithms PS256,
ES256 and EdDSA only; ``none`` and HS* refused) and turns joserfc's errors into the
workbench's one-line :class:`~workbench.errors.TokenError` messages, which never contain
the token itself (requirement 11).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwk, jwt
from joserfc.errors import BadSignatureError, ExceededSizeError, JoseError
from joserfc.jws import JWSRegistry, extract_compact

from workbench.errors import TokenError

__all__ = [
    "ALLOWED_ALGS",
    "InvalidClientError",
    "InvalidTokenError",
    "alg_for_key",
    "b64url",
    "epoch",
    "load_private_key",
    "load_public_key",
    "new_jti",
    "parse_unverified",
    "sign",
    "token_fingerprint",
    "verify_signature",
]

ALLOWED_ALGS: frozenset[str] = frozenset({"PS256", "ES256", "EdDSA"})
"""The only JWS algorithms the workbench signs or accepts (requirement 7)."""

MIN_RSA_BITS = 2048

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class InvalidTokenError(TokenError):
    """A token failed verification (RFC 6750 ``invalid_token``): a check ran and said no."""

    exit_status = 1
    error = "invalid_token"


class InvalidClientError(TokenError):
    """A client assertion failed verification (RFC 6749 ``invalid_client``)."""

    exit_status = 1
    error = "invalid_client"


def _quiet_eddsa_registry_class() -> type[JWSRegistry]:
    # joserfc 1.8 warns on "EdDSA" because RFC 9864 deprecates it in favour of "Ed25519".
    # Peers (and FAPI 2) still speak "EdDSA", and pytest turns warnings into errors, so we
    # register a copy without the warning in our own registry class instead of muting
    # warnings globally (catch_warnings is not thread-safe).
    eddsa = copy.copy(JWSRegistry.algorithms["EdDSA"])
    eddsa.security_warning = None
    algs = {name: JWSRegistry.algorithms[name] for name in ("PS256", "ES256")}
    algs["EdDSA"] = eddsa
    # A DPoP header carries the public JWK: an RSA-4096 one is ~900 bytes, over joserfc's
    # 512-byte default header limit.
    attrs = {"algorithms": algs, "recommended": [], "max_header_length": 4096}
    return type("_WorkbenchJWSRegistry", (JWSRegistry,), attrs)


_REGISTRY_CLASS = _quiet_eddsa_registry_class()


def _registry(header_registry: Mapping[str, Any] | None = None) -> JWSRegistry:
    return _REGISTRY_CLASS(
        header_registry=dict(header_registry) if header_registry else None,
        algorithms=sorted(ALLOWED_ALGS),
    )


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_fingerprint(token: str) -> str:
    """First 12 hex of SHA-256 of the token: safe to print or log instead of the token."""
    return hashlib.sha256(token.strip().encode("utf-8", "replace")).hexdigest()[:12]


def new_jti() -> str:
    """A fresh unique JWT id (128 random bits)."""
    return secrets.token_urlsafe(16)


def epoch(now: datetime | float | int) -> int:
    """Seconds since the epoch from an aware datetime or a number."""
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise TokenError("now must be a timezone-aware datetime (use datetime.now(UTC))")
        return int(now.timestamp())
    if isinstance(now, bool) or not isinstance(now, int | float):
        raise TokenError("now must be an aware datetime or seconds since the epoch")
    return int(now)


def _check_strength(key: PrivateKey | PublicKey) -> None:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise TokenError(
                f"RSA-{key.key_size} key refused: use RSA >= {MIN_RSA_BITS} (requirement 7)"
            )
    elif isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise TokenError(
                f"EC curve {key.curve.name} refused: JWTs use ES256, i.e. P-256 (requirement 7)"
            )
    elif not isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        raise TokenError(
            f"{type(key).__name__} refused: use an EC P-256, RSA >= 2048 or Ed25519 key"
        )


def load_private_key(key: Any) -> PrivateKey:
    """A signing key from a cryptography object or unencrypted PEM; refuses weak keys."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(key, bytes):
        try:
            key = serialization.load_pem_private_key(key, password=None)
        except TypeError as exc:
            raise TokenError("the private key is encrypted: decrypt it first") from exc
        except ValueError as exc:
            raise TokenError("not a PEM private key (expected a PEM 'PRIVATE KEY' block)") from exc
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise TokenError(
            f"{type(key).__name__} refused as a signing key: use a private EC P-256, "
            "RSA >= 2048 or Ed25519 key"
        )
    _check_strength(key)
    return key


def load_public_key(key: Any) -> PublicKey:
    """A verification key from a public/private key, a certificate, PEM or a JWK dict."""
    if isinstance(key, Mapping):
        try:
            imported = jwk.import_key(dict(key), str(key.get("kty")))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise TokenError("not a usable public JWK (check kty and its members)") from exc
        key = imported.get_op_key("verify")
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(key, bytes):
        key = _pem_to_public(key)
    if isinstance(key, x509.Certificate):
        key = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise TokenError(f"{type(key).__name__} is not a usable verification key")
    _check_strength(key)
    return key


def _pem_to_public(data: bytes) -> Any:
    if b"CERTIFICATE" in data:
        try:
            return x509.load_pem_x509_certificate(data)
        except ValueError as exc:
            raise TokenError("not a readable PEM certificate") from exc
    if b"PRIVATE KEY" in data:
        return load_private_key(data)
    try:
        return serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise TokenError("not a PEM public key, private key or certificate") from exc


def alg_for_key(key: PrivateKey | PublicKey, alg: str | None = None) -> str:
    """The JWS algorithm for ``key`` (EC P-256 -> ES256, RSA -> PS256, Ed25519 -> EdDSA).

    An explicit ``alg`` must be that same one: anything else (``none``, HS*, RS256, ...) is
    refused, so a caller cannot downgrade by naming a weaker algorithm.
    """
    _check_strength(key)
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        natural = "PS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        natural = "ES256"
    else:
        natural = "EdDSA"
    if alg is not None and alg != natural:
        if alg not in ALLOWED_ALGS:
            raise TokenError(
                f"algorithm {alg!r} refused: use one of {', '.join(sorted(ALLOWED_ALGS))}"
            )
        raise TokenError(f"algorithm {alg} does not fit this key: it signs with {natural}")
    return natural


def joserfc_key(key: PrivateKey | PublicKey) -> jwk.Key:
    """The joserfc form of a cryptography key."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return jwk.import_key(key, "RSA")
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return jwk.import_key(key, "EC")
    return jwk.import_key(key, "OKP")


def sign(
    header: Mapping[str, Any],
    claims: Mapping[str, Any],
    private_key: Any,
    *,
    alg: str | None = None,
) -> str:
    """Sign ``claims`` as a compact JWS with joserfc; ``alg`` follows the key."""
    key = load_private_key(private_key)
    chosen = alg_for_key(key, alg)
    full_header = {**header, "alg": chosen}
    try:
        return jwt.encode(
            full_header, dict(claims), joserfc_key(key), registry=_registry(), default_type=None
        )
    except JoseError as exc:
        raise TokenError(f"could not sign the token: {exc.error}") from exc


def parse_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS WITHOUT checking its signature (for inspection).

    Raises TokenError (bad input) when it is not a compact JWT; the message never quotes it.
    """
    if not isinstance(token, str):
        raise TokenError("the token must be text")
    value = token.strip()
    parts = value.split(".")
    if len(parts) == 5:
        raise TokenError("this is an encrypted JWT (JWE, 5 parts): it cannot be inspected")
    if len(parts) != 3:
        raise TokenError(f"not a compact JWT: expected 3 dot-separated parts, got {len(parts)}")
    try:
        # A permissive registry here: inspection must be able to read alg=none and HS256 in
        # order to report them; nothing parsed here is trusted.
        obj = extract_compact(value.encode("ascii"), registry=_registry())
    except ExceededSizeError as exc:
        raise TokenError(f"token too large to inspect: {exc.description}") from exc
    except (JoseError, ValueError, UnicodeError) as exc:
        raise TokenError("not a compact JWT: a part is not base64url-encoded JSON") from exc
    header = obj.headers()
    try:
        claims = json.loads(obj.payload)
    except (ValueError, TypeError) as exc:
        raise TokenError("not a JWT: the payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError("not a JWT: the header and the payload must be JSON objects")
    return header, claims


def verify_signature(
    token: str,
    public_keys: Any,
    *,
    error: type[TokenError] = InvalidTokenError,
    header_registry: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the signature with one of ``public_keys``; return (header, claims).

    Raises ``error`` (``invalid_token`` by default) on a refused algorithm or a bad
    signature. Keys are tried in order; weak keys are refused before any is tried.
    """
    if isinstance(public_keys, Sequence) and not isinstance(public_keys, str | bytes):
        keys = [load_public_key(k) for k in public_keys]
    else:
        keys = [load_public_key(public_keys)]
    if not keys:
        raise TokenError("no verification key given")
    header, _ = parse_unverified(token)
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        raise error(
            f"{error.error}: algorithm {str(alg)[:16]!r} refused "
            f"(only {', '.join(sorted(ALLOWED_ALGS))})"
        )
    registry = _registry(header_registry)
    for key in keys:
        if alg != alg_for_key(key):
            continue
        try:
            decoded = jwt.decode(token.strip(), joserfc_key(key), registry=registry)
        except BadSignatureError:
            continue
        except JoseError as exc:
            raise error(f"{error.error}: {exc.error}: {exc.description}") from exc
        return dict(decoded.header), dict(decoded.claims)
    raise error(f"{error.error}: bad signature (no trusted {alg} key verifies it)")
