"""Mode ``mtls+token`` on an operator's HAProxy: the company's authorization server, checked
by HAProxy itself.

HAProxy 2.6 verifies JWTs natively (``jwt_verify``, ``jwt_header_query``,
``jwt_payload_query``), hashes the client certificate (``ssl_c_der,digest(sha256),ub64enc``
is exactly RFC 8705's ``x5t#S256``) and compares variables (``strcmp``), so the rendered
frontend enforces what :func:`workbench.tokens.verify_bound_token` enforces: the signature by
one of the configured keys with ES256 only (the header's ``alg`` must say ES256 too, so
``none``, HS256 and every other algorithm are refused), ``iss``, ``aud`` = the API's URL (a
string, or one of the first :data:`AUD_SLOTS` entries of a list), ``exp`` after now, ``nbf``
and ``iat`` not after now, and ``cnf.x5t#S256`` equal to the thumbprint of the verified
client certificate on this connection.

Why ES256 only: requirement 7 allows PS256, ES256 and EdDSA; HAProxy 2.6 verifies HS*, RS*
and ES* ("RSASSA-PSS JWS signing not managed yet", no EdDSA), so ES256 is the one both accept.
A key of another type is refused with that reason, before anything is written.

What HAProxy cannot do like joserfc: it reads NumericDate claims as integers (a signed token
whose ``exp`` is the string "1800000000" counts as that number; joserfc refuses it), and it
does not check the JSON types of ``sub``/``jti``. Both need the authorization server's
signature, so only the company's own server could send such a token.

nginx-light has no njs and cannot verify a JWT: an nginx gateway refuses ``mtls+token``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from workbench.errors import GatewayError

__all__ = [
    "AUD_SLOTS",
    "TOKEN_ALG",
    "route_audience",
    "signing_key_pem",
    "token_endpoint_of",
    "token_settings",
]

TOKEN_ALG = "ES256"  # noqa: S105  (an algorithm name, not a secret)
"""The one JWS algorithm an operator HAProxy accepts (see the module doc)."""
AUD_SLOTS = 8
"""How many entries of a list ``aud`` HAProxy looks at (it has no loop over an array)."""
MAX_KEY_FILE = 64 * 1024
# Placed single-quoted in the HAProxy config: no quote, backslash, $ or whitespace.
_HAPROXY_LITERAL = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]{1,500}$"
)


def _where(gw: Any) -> str:
    loc = gw.authorization_server.location if gw.authorization_server else gw.location
    return f"{loc.file}:{loc.line}:{loc.col}: gateway {gw.id}" if loc else f"gateway {gw.id}"


def signing_key_pem(path: Path, where: str) -> bytes:
    """The key of a PEM public key file, re-serialised (SubjectPublicKeyInfo), once it is
    checked to be one EC P-256 public key; else a one-line GatewayError naming ``path``."""
    head = f"{where}: authorization_server.signing_keys {path}"
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise GatewayError(
            f"{head}: cannot read it ({exc.strerror}): put the server's PEM public key there"
        ) from None
    if len(data) > MAX_KEY_FILE:
        raise GatewayError(f"{head}: larger than 64 KiB: give one PEM public key")
    if data.lstrip().startswith(b"{"):
        raise GatewayError(
            f"{head}: JSON (a JWK Set?): give each key as a PEM public key file "
            "(-----BEGIN PUBLIC KEY-----)"
        )
    if b"PRIVATE KEY" in data:
        raise GatewayError(
            f"{head}: holds a PRIVATE key: give the public key only "
            "(openssl pkey -in KEY -pubout) and keep the private key on the server"
        )
    if b"CERTIFICATE" in data:
        raise GatewayError(
            f"{head}: a certificate: give its public key (openssl x509 -in CERT -pubkey -noout)"
        )
    if data.count(b"-----BEGIN PUBLIC KEY-----") != 1:
        raise GatewayError(
            f"{head}: need exactly one -----BEGIN PUBLIC KEY----- block (one key per file)"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise GatewayError(f"{head}: not a readable PEM public key") from None
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if isinstance(key, rsa.RSAPublicKey):
        why = "an RSA key: HAProxy 2.6 cannot verify PS256 and requirement 7 refuses RS256"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        why = "an Ed25519 key: HAProxy 2.6 cannot verify EdDSA"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        why = f"an EC {key.curve.name} key: JWTs here use ES256, i.e. P-256"
    else:
        why = f"a {type(key).__name__}"
    raise GatewayError(
        f"{head}: {why}: have the authorization server sign with an EC P-256 key (ES256)"
    )


def _literal(value: str, what: str, where: str) -> str:
    if not _HAPROXY_LITERAL.fullmatch(value):
        raise GatewayError(
            f"{where}: {what} {value[:80]!r} cannot go into a HAProxy config (spaces, quotes, "
            "backslashes or $): change it"
        )
    return value


def token_settings(gw: Any, base: Path, keys_dir: Path, files: dict[Path, bytes]) -> dict:
    """The template's ``token`` context for gateway entry ``gw``; adds the copied keys to
    ``files`` (the owned files: written, hashed into the config id and restored together).

    Raises a GatewayError naming the inventory entry when mtls+token cannot be served."""
    where = _where(gw)
    if gw.kind != "haproxy":
        raise GatewayError(
            f"{where} ({gw.kind}) cannot require bound tokens: nginx-light cannot verify a JWT "
            "(no njs); put the API behind a haproxy gateway with an authorization_server, or "
            "rehearse it on the lab's Python gateway"
        )
    server = gw.authorization_server
    if server is None:
        raise GatewayError(
            f"{where}: mode mtls+token needs the company's authorization server: add "
            "authorization_server: {issuer: URL, signing_keys: [public-key.pem]} to this entry"
        )
    key_files = []
    for n, name in enumerate(server.signing_keys, 1):
        pem = signing_key_pem((base / name).resolve(), where)
        target = keys_dir / f"as-signing-{n}.pem"
        files[target] = pem
        key_files.append(str(target))
    return {
        "alg": TOKEN_ALG,
        "issuer": _literal(server.issuer, "authorization_server.issuer", where),
        "key_files": key_files,
        "aud_slots": range(AUD_SLOTS),
    }


def token_endpoint_of(gw: Any) -> str:
    """Where the verifier gets its bound tokens, or a GatewayError saying what stays unproved."""
    server = gw.authorization_server
    if server is None or not server.token_endpoint:
        raise GatewayError(
            f"{_where(gw)}: no authorization_server.token_endpoint, so the verifier cannot get "
            "a bound token and cannot prove mtls+token (that a bound token is served, and "
            "that the certificate alone, the token alone and the token with another "
            "certificate are refused): add token_endpoint (client_credentials with the "
            "consumer's certificate, RFC 8705 tls_client_auth)"
        )
    return server.token_endpoint


def route_audience(url: str, where: str) -> str:
    """The API's URL as the ``aud`` literal of its route."""
    return _literal(url, "the API url (the tokens' aud)", where)
