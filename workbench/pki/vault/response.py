"""What Vault hands back, read and checked: the certificate facts, Vault's serial spelling,
and the checks a signed certificate must pass before the workspace keeps it (the CSR's key,
exactly the SPIFFE ID asked for, the profile's EKU, the lifetime asked for, a signature by
the recorded issuing CA and the recorded chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from workbench.errors import PKIError
from workbench.pki.certs import IssuedCertificate, IssueRequest

__all__ = ["check_signed", "colon_serial", "issued_from_certificate", "pem_certs"]

LIFETIME_SLACK = timedelta(minutes=5)  # Vault backdates notBefore by 30 s and rounds TTLs
_EKU = {"client": ExtendedKeyUsageOID.CLIENT_AUTH, "server": ExtendedKeyUsageOID.SERVER_AUTH}


def colon_serial(serial: int) -> str:
    """Vault's spelling of a serial: lower-case hex bytes joined by colons."""
    raw = serial.to_bytes((serial.bit_length() + 7) // 8 or 1, "big")
    return ":".join(f"{b:02x}" for b in raw)


def issued_from_certificate(
    cert: x509.Certificate, kind: str, private_key: Any = None
) -> IssuedCertificate:
    """The IssuedCertificate facts of a certificate signed elsewhere."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    return IssuedCertificate.signed(
        cert,
        kind=kind,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        spiffe_id=next((u for u in uris if u.startswith("spiffe://")), None),
        private_key=private_key,
    )


def pem_certs(text: str | Sequence[str], what: str) -> list[x509.Certificate]:
    blob = "\n".join(text) if isinstance(text, list | tuple) else str(text)
    try:
        return x509.load_pem_x509_certificates(blob.encode())
    except ValueError:
        raise PKIError(f"Vault returned no readable PEM certificate in {what}") from None


def _chain_pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def check_signed(
    where: str,
    chain_pem: bytes,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    csr: x509.CertificateSigningRequest,
    request: IssueRequest,
    started: datetime,
    warnings: Sequence[str],
) -> None:
    """Refuse a signed certificate that is not exactly what was asked for (see module doc)."""
    if cert.public_key() != csr.public_key():
        raise PKIError(f"{where} certified another key than the CSR's: refusing it")
    if _chain_pem(chain) != chain_pem:
        raise PKIError(
            f"{where} signed with another CA chain than the workspace's chain.pem (was the "
            "mount's issuer rotated?): make a new workspace with "
            "`workbench init --issuer vault`"
        )
    try:
        cert.verify_directly_issued_by(chain[0])
    except (ValueError, TypeError, InvalidSignature):
        raise PKIError(f"{where}: the certificate is not signed by its issuing CA") from None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    wanted = [request.spiffe_id] if request.spiffe_id else []
    if sorted(uris) != wanted:
        raise PKIError(
            f"{where} returned URI SANs {uris} instead of {wanted}: set the role's "
            "use_csr_sans=false"
        )
    try:
        ekus = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        ekus = set()
    other = "server" if request.kind == "client" else "client"
    if _EKU[request.kind] not in ekus:
        raise PKIError(
            f"{where} issued no {request.kind}Auth EKU: set {request.kind}_flag=true on the role"
        )
    if request.kind == "client" and _EKU[other] in ekus:
        raise PKIError(
            f"{where} also issued serverAuth on a client certificate: set server_flag=false "
            "on the client role"
        )
    asked = started + request.lifetime
    if cert.not_valid_after_utc < asked - LIFETIME_SLACK:
        capped = "; ".join(warnings) or f"notAfter {cert.not_valid_after_utc:%Y-%m-%d %H:%M}Z"
        raise PKIError(
            f"{where} shortened the lifetime ({capped}): ask for a shorter --lifetime or "
            "raise the role's max_ttl"
        )
