"""PKCS#12 bundles for consumers that want one file (Java keystores, Windows, some SDKs).

Key and certificates are encrypted with PBES2 (PBKDF2-HMAC-SHA256, ``kdf_rounds``,
AES-256-CBC) and MACed with HMAC-SHA256. Note: cryptography keeps the MAC at 2048
iterations whatever ``kdf_rounds`` is, so the bundle password is only as strong as that;
use a long random password and hand it over out of band. CA keys use a stronger format
(see ``workbench.pki.ca``).
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from workbench.errors import PKIError
from workbench.pki.certs import IssuedCertificate

__all__ = ["DEFAULT_PKCS12_ROUNDS", "make_pkcs12"]

DEFAULT_PKCS12_ROUNDS = 600_000
"""OWASP's PBKDF2-HMAC-SHA256 figure; ~85 ms per load here."""


def make_pkcs12(
    issued: IssuedCertificate,
    chain: Sequence[x509.Certificate] | bytes,
    alias: str,
    password: str | bytes,
    kdf_rounds: int = DEFAULT_PKCS12_ROUNDS,
) -> bytes:
    """A password-protected PKCS#12 with the leaf key+cert under ``alias`` and the CA chain."""
    if issued.private_key is None:
        raise PKIError("this certificate has no private key here (signed from a CSR): no bundle")
    if not alias or len(alias) > 64 or not alias.isprintable():
        raise PKIError("bad PKCS#12 alias: use 1-64 printable characters")
    if not password:
        raise PKIError("a PKCS#12 bundle needs a password: give one")
    if kdf_rounds < 1:
        raise PKIError("kdf_rounds must be positive")
    secret = password.encode("utf-8") if isinstance(password, str) else password
    cas = x509.load_pem_x509_certificates(chain) if isinstance(chain, bytes) else list(chain)
    enc = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(kdf_rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(secret)
    )
    return pkcs12.serialize_key_and_certificates(
        alias.encode("utf-8"), issued.private_key, issued.certificate, cas or None, enc
    )
