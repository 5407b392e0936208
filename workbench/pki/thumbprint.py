"""Certificate thumbprints: RFC 8705 ``x5t#S256`` and the SHA-256 fingerprint (req. 1)."""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

__all__ = ["sha256_fingerprint", "x5t_s256", "x5t_s256_from_digest"]


def _der(cert: x509.Certificate | bytes) -> bytes:
    return cert if isinstance(cert, bytes) else cert.public_bytes(Encoding.DER)


def x5t_s256_from_digest(digest: bytes) -> str:
    """base64url without padding of a SHA-256 digest: 43 characters."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def x5t_s256(cert: x509.Certificate | bytes) -> str:
    """RFC 8705 ``x5t#S256`` of a certificate (object or DER bytes)."""
    return x5t_s256_from_digest(hashlib.sha256(_der(cert)).digest())


def sha256_fingerprint(cert: x509.Certificate | bytes, *, sep: str = "") -> str:
    """Lower-case hex SHA-256 of the DER; ``sep=":"`` gives the openssl-style colon form."""
    return (
        hashlib.sha256(_der(cert)).digest().hex(sep)
        if sep
        else hashlib.sha256(_der(cert)).hexdigest()
    )
