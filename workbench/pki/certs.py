"""Issuance value objects: what to issue (IssueRequest), what came out (IssuedCertificate)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from workbench.errors import PKIError
from workbench.pki.keys import PrivateKey
from workbench.pki.profiles import check_trust_domain, spiffe_id
from workbench.pki.thumbprint import x5t_s256_from_digest

__all__ = [
    "DEFAULT_CLIENT_LIFETIME",
    "DEFAULT_SERVER_LIFETIME",
    "IssueRequest",
    "IssuedCertificate",
]

DEFAULT_CLIENT_LIFETIME = timedelta(days=7)
DEFAULT_SERVER_LIFETIME = timedelta(days=30)
DEFAULT_BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class IssueRequest:
    """What the CA is asked to certify. The identity comes from here, never from a CSR."""

    kind: Literal["client", "server"]
    """Profile: ``client`` (EKU clientAuth) or ``server`` (EKU serverAuth)."""
    common_name: str
    """Subject CN (informational; verifiers match SANs)."""
    spiffe_id: str | None = None
    """SPIFFE URI SAN, e.g. ``spiffe://acme.test/prod/billing-worker``."""
    dns_names: tuple[str, ...] = ()
    """DNS SANs."""
    ip_addresses: tuple[str, ...] = ()
    """IP SANs (server certs: e.g. ``127.0.0.1``)."""
    lifetime: timedelta = DEFAULT_CLIENT_LIFETIME
    """Validity from ``now`` (the backdate is added on top)."""
    now: datetime | None = None
    """Issue time (timezone-aware); None means the current time."""
    backdate: timedelta = DEFAULT_BACKDATE
    """notBefore = now - backdate, to tolerate clock skew between peers."""
    organization: str | None = None
    """Subject O (the trust domain by default when built with the helpers)."""

    @classmethod
    def client(
        cls,
        service: str,
        environment: str,
        trust_domain: str,
        *,
        dns_names: tuple[str, ...] | list[str] = (),
        lifetime: timedelta = DEFAULT_CLIENT_LIFETIME,
        now: datetime | None = None,
    ) -> IssueRequest:
        """A client-certificate request for ``service`` in ``environment``."""
        sid = spiffe_id(trust_domain, environment, service)
        return cls(
            "client", service, sid, tuple(dns_names), (), lifetime, now, organization=trust_domain
        )

    @classmethod
    def server(
        cls,
        common_name: str,
        *,
        dns_names: tuple[str, ...] | list[str] = ("localhost",),
        ip_addresses: tuple[str, ...] | list[str] = ("127.0.0.1",),
        trust_domain: str | None = None,
        lifetime: timedelta = DEFAULT_SERVER_LIFETIME,
        now: datetime | None = None,
    ) -> IssueRequest:
        """A server (gateway) certificate request; SANs default to localhost and 127.0.0.1."""
        org = check_trust_domain(trust_domain) if trust_domain else None
        return cls(
            "server",
            common_name,
            None,
            tuple(dns_names),
            tuple(ip_addresses),
            lifetime,
            now,
            organization=org,
        )

    def __post_init__(self) -> None:
        if self.kind not in ("client", "server"):
            raise PKIError(f"unknown certificate kind {self.kind!r}: use 'client' or 'server'")
        if self.lifetime <= timedelta(0):
            raise PKIError("certificate lifetime must be positive")
        if self.now is not None and self.now.tzinfo is None:
            raise PKIError("'now' must be timezone-aware (use datetime.now(timezone.utc))")


@dataclass(frozen=True)
class IssuedCertificate:
    """A signed leaf certificate and, when the CA generated it, its private key.

    repr/str never show the private key; pickling is refused (req. 12). Use
    ``public_record()`` for anything stored or printed.
    """

    serial: int
    """Certificate serial number (positive, <= 20 octets, >= 64 random bits)."""
    serial_hex: str
    """Serial as lower-case hex without separators."""
    certificate: x509.Certificate = field(repr=False)
    """The parsed certificate."""
    pem: bytes = field(repr=False)
    """Certificate in PEM."""
    der: bytes = field(repr=False)
    """Certificate in DER."""
    not_before: datetime
    """Start of validity (UTC)."""
    not_after: datetime
    """End of validity (UTC)."""
    spiffe_id: str | None
    """The SPIFFE URI SAN, if any."""
    x5t_s256: str
    """RFC 8705 thumbprint (base64url SHA-256 of the DER, 43 chars)."""
    sha256_fingerprint: str
    """Lower-case hex SHA-256 of the DER (same digest as x5t#S256)."""
    kind: str = "client"
    """``client`` or ``server``."""
    private_key: PrivateKey | None = field(default=None, repr=False, compare=False)
    """The private key when the CA generated it; None after ``sign_csr``."""

    def __repr__(self) -> str:
        key = "<redacted>" if self.private_key is not None else "None"
        return (
            f"IssuedCertificate(kind={self.kind!r}, serial_hex={self.serial_hex!r}, "
            f"spiffe_id={self.spiffe_id!r}, not_after={self.not_after.isoformat()!r}, "
            f"x5t_s256={self.x5t_s256!r}, private_key={key})"
        )

    __str__ = __repr__

    @classmethod
    def signed(
        cls,
        cert: x509.Certificate,
        *,
        kind: str,
        not_before: datetime,
        not_after: datetime,
        spiffe_id: str | None,
        private_key: PrivateKey | None = None,
    ) -> IssuedCertificate:
        """The facts of a signed leaf (DER, PEM, SHA-256, x5t#S256, serial in even hex), the
        same whichever CA signed it; the caller gives what it knows without parsing again."""
        pem = cert.public_bytes(serialization.Encoding.PEM)
        der = base64.b64decode(pem.split(b"-----")[2])  # the PEM's body: 3 us less than DER again
        digest = hashlib.sha256(der).digest()
        serial = cert.serial_number
        hex_serial = format(serial, "x")
        return cls(
            serial=serial,
            serial_hex=hex_serial if len(hex_serial) % 2 == 0 else "0" + hex_serial,
            certificate=cert,
            pem=pem,
            der=der,
            not_before=not_before,
            not_after=not_after,
            spiffe_id=spiffe_id,
            x5t_s256=x5t_s256_from_digest(digest),
            sha256_fingerprint=digest.hex(),
            kind=kind,
            private_key=private_key,
        )

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("IssuedCertificate holds a private key and cannot be pickled (req. 12)")

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM of the private key (encrypted with ``password`` if given)."""
        if self.private_key is None:
            raise PKIError("this certificate was signed from a CSR: its private key is not here")
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
        )

    def public_record(self) -> dict[str, Any]:
        """JSON-safe facts about the certificate (no key material)."""
        return {
            "kind": self.kind,
            "serial": self.serial_hex,
            "spiffe_id": self.spiffe_id,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "x5t#S256": self.x5t_s256,
            "sha256": self.sha256_fingerprint,
        }
