"""Thumbprints that bind a token to a key: RFC 8705 ``x5t#S256`` and RFC 7638 ``jkt``."""

from __future__ import annotations

import re
from typing import Any

from cryptography import x509

from workbench.errors import TokenError
from workbench.tokens._jose import joserfc_key, load_public_key

__all__ = ["is_wellformed_thumbprint", "jwk_thumbprint", "public_jwk", "x5t_s256"]

_B64URL_43 = re.compile(r"[A-Za-z0-9_-]{43}")


def _certificate(cert: x509.Certificate | bytes | str) -> x509.Certificate:
    if isinstance(cert, x509.Certificate):
        return cert
    data = cert.encode("ascii") if isinstance(cert, str) else cert
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise TokenError("not a readable X.509 certificate (PEM or DER expected)") from exc


def x5t_s256(cert: x509.Certificate | bytes | str) -> str:
    """RFC 8705 ``x5t#S256``: base64url (no padding) of SHA-256 over the certificate's DER.

    Accepts a cryptography Certificate, PEM (bytes or str) or DER bytes. Always 43 chars.
    """
    from workbench.pki.thumbprint import x5t_s256 as of_certificate

    return of_certificate(_certificate(cert))


def is_wellformed_thumbprint(value: object) -> bool:
    """True for a 43-char unpadded base64url string (the shape of a SHA-256 thumbprint)."""
    return isinstance(value, str) and _B64URL_43.fullmatch(value) is not None


def public_jwk(key: Any) -> dict[str, str]:
    """The public JWK of a key (private members dropped), e.g. for a DPoP header."""
    pub = load_public_key(key)
    return {k: str(v) for k, v in joserfc_key(pub).as_dict(private=False).items()}


def jwk_thumbprint(public_key: Any) -> str:
    """RFC 7638 SHA-256 thumbprint of a key's JWK (the ``cnf.jkt`` of a DPoP-bound token).

    Accepts a cryptography key (public or private: only the public part is used), PEM,
    a certificate, or a JWK dict (only the required members count, as the RFC says).
    """
    return joserfc_key(load_public_key(public_key)).thumbprint()
