"""RFC 9449 DPoP proofs: a per-request JWT proving possession of the key a token is bound to."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import TokenError
from workbench.tokens._jose import b64url, epoch, load_private_key, new_jti, sign
from workbench.tokens.thumbprints import public_jwk

__all__ = ["access_token_hash", "dpop_proof", "normalize_htu"]

# RFC 9110 method token characters; DPoP compares htm case-sensitively with the method.
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def access_token_hash(access_token: str) -> str:
    """The DPoP ``ath`` claim: base64url(SHA-256(ASCII of the access token)), no padding."""
    try:
        data = access_token.encode("ascii")
    except UnicodeEncodeError as exc:
        raise TokenError("the access token must be ASCII (RFC 6750 token68)") from exc
    return b64url(hashlib.sha256(data).digest())


def normalize_htu(url: str) -> str:
    """The ``htu`` value for ``url``: the absolute http(s) URL without query and fragment."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TokenError("htu must be an absolute http(s) URL, e.g. https://127.0.0.1:8443/api")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", "", ""))


def dpop_proof(
    *,
    private_key: Any,
    htm: str,
    htu: str,
    now: datetime | float | int,
    access_token: str | None = None,
    jti: str | None = None,
    nonce: str | None = None,
    alg: str | None = None,
) -> str:
    """A signed DPoP proof for one HTTP request (RFC 9449 section 4.2).

    Header: ``typ=dpop+jwt``, ``alg`` from the key (ES256/PS256/EdDSA), the public ``jwk``.
    Claims: ``jti``, ``htm``, ``htu`` (query and fragment stripped), ``iat``, plus ``ath``
    when an access token is sent and ``nonce`` when the server asked for one.
    """
    if not isinstance(htm, str) or not _METHOD.fullmatch(htm):
        raise TokenError("htm must be an HTTP method such as GET or POST")
    key = load_private_key(private_key)
    claims: dict[str, Any] = {
        "jti": jti or new_jti(),
        "htm": htm.upper(),
        "htu": normalize_htu(htu),
        "iat": epoch(now),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token.strip())
    if nonce is not None:
        claims["nonce"] = nonce
    header = {"typ": "dpop+jwt", "jwk": public_jwk(key)}
    return sign(header, claims, key, alg=alg)
