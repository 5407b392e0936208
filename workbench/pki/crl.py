"""Revocation records and CRLs (security requirement 6). Pure functions: the caller stores
the revoked serials and the CRL number, which must increase with every CRL it publishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from workbench.errors import PKIError
from workbench.pki.keys import PrivateKey, signature_hash
from workbench.pki.profiles import authority_key_id

__all__ = [
    "DEFAULT_CRL_VALIDITY",
    "CRLSet",
    "Revoked",
    "build_crl",
    "crl_number_of",
    "parse_reason",
]

DEFAULT_CRL_VALIDITY = timedelta(days=7)
_MAX_CRL_NUMBER = 1 << 159  # RFC 5280 5.2.3: at most 20 octets


def _norm(name: str) -> str:
    return name.replace("-", "").replace("_", "").lower()


_REASONS = {_norm(f.value): f for f in x509.ReasonFlags} | {
    _norm(f.name): f for f in x509.ReasonFlags
}


def parse_reason(reason: x509.ReasonFlags | str | None) -> x509.ReasonFlags:
    """A ReasonFlags from itself or its RFC name (``keyCompromise``, ``superseded``, ...)."""
    if reason is None:
        return x509.ReasonFlags.unspecified
    if isinstance(reason, x509.ReasonFlags):
        flag: x509.ReasonFlags | None = reason
    else:
        flag = _REASONS.get(_norm(str(reason)))
        if flag is None:
            names = ", ".join(
                f.value for f in x509.ReasonFlags if f is not x509.ReasonFlags.remove_from_crl
            )
            raise PKIError(f"unknown revocation reason {reason!r}: use one of {names}")
    if flag is x509.ReasonFlags.remove_from_crl:
        raise PKIError("removeFromCRL is only for delta CRLs: use another reason")
    return flag


@dataclass(frozen=True)
class Revoked:
    """One revoked certificate, as the caller stores it."""

    serial: int
    """Serial number of the revoked certificate."""
    when: datetime
    """Revocation time (timezone-aware)."""
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified
    """RFC 5280 reason code; ``unspecified`` is omitted from the CRL entry as 5.3.1 advises."""

    def __post_init__(self) -> None:
        if not isinstance(self.serial, int) or self.serial <= 0:
            raise PKIError(f"bad serial {self.serial!r} to revoke: a positive integer is needed")
        if self.when.tzinfo is None:
            raise PKIError("revocation time must be timezone-aware")
        object.__setattr__(self, "reason", parse_reason(self.reason))


@dataclass(frozen=True)
class CRLSet:
    """One CRL per CA in the chain: nginx ``ssl_crl`` and ``openssl -crl_check_all`` need both."""

    intermediate: x509.CertificateRevocationList
    """CRL signed by the issuing CA: the leaves it revoked."""
    root: x509.CertificateRevocationList
    """CRL signed by the root: revoked issuing CAs (usually empty)."""
    crl_number: int
    """The CRL number both carry."""

    @property
    def intermediate_pem(self) -> bytes:
        """The issuing CA's CRL in PEM."""
        return self.intermediate.public_bytes(Encoding.PEM)

    @property
    def root_pem(self) -> bytes:
        """The root's CRL in PEM."""
        return self.root.public_bytes(Encoding.PEM)

    @property
    def combined_pem(self) -> bytes:
        """Both CRLs in one PEM (for ``ssl_crl``, ``-CRLfile``, ``load_verify_locations``)."""
        return self.intermediate_pem + self.root_pem


def build_crl(
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    revoked: Iterable[Revoked],
    crl_number: int,
    now: datetime | None = None,
    next_update_after: timedelta = DEFAULT_CRL_VALIDITY,
) -> x509.CertificateRevocationList:
    """A v2 CRL with nextUpdate, AKI, CRL number and reason codes, signed by ``issuer_key``."""
    if not isinstance(crl_number, int) or not 0 < crl_number < _MAX_CRL_NUMBER:
        raise PKIError(f"bad CRL number {crl_number!r}: use a positive integer below 2**159")
    if next_update_after <= timedelta(0):
        raise PKIError("CRL validity (next_update_after) must be positive")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise PKIError("'now' must be timezone-aware")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(now)
        .next_update(now + next_update_after)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(authority_key_id(issuer_cert).value, critical=False)
    )
    seen: set[int] = set()
    for r in revoked:
        if r.serial in seen:
            continue
        seen.add(r.serial)
        entry = x509.RevokedCertificateBuilder().serial_number(r.serial).revocation_date(r.when)
        if r.reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(r.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, signature_hash(issuer_key))  # type: ignore[arg-type]


def crl_number_of(crl: x509.CertificateRevocationList | bytes) -> int:
    """The CRL number of a CRL (object or PEM/DER bytes), e.g. to pick the next one."""
    if isinstance(crl, bytes):
        crl = (
            x509.load_pem_x509_crl(crl)
            if crl.lstrip().startswith(b"-----")
            else x509.load_der_x509_crl(crl)
        )
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
