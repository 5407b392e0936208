"""Certificate profiles (RFC 5280; security requirements 2 and 3) and name checks.

Each profile is a tuple of ``x509.Extension`` objects built once, so the issuance path only
adds what differs per certificate (SAN, SKI). The CA decides the identity: SANs come from
the request, never from a CSR.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from workbench.errors import PKIError

__all__ = [
    "CA_KEY_USAGE",
    "LEAF_KEY_USAGE",
    "authority_key_id",
    "ca_extensions",
    "check_dns_name",
    "check_trust_domain",
    "leaf_extensions",
    "leaf_subject",
    "san_extension",
    "spiffe_id",
]

_TRUST_DOMAIN = re.compile(r"^[a-z0-9._-]{1,255}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def _ku(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


CA_KEY_USAGE = _ku(digital_signature=False, cert_sign=True)
"""keyCertSign + cRLSign, nothing else (req. 3)."""
LEAF_KEY_USAGE = _ku(digital_signature=True)
"""digitalSignature only (req. 2). TLS 1.2 RSA key exchange (keyEncipherment) is not supported
on purpose: ECDHE suites need only digitalSignature."""

_LEAF_BC = x509.Extension(ExtensionOID.BASIC_CONSTRAINTS, True, x509.BasicConstraints(False, None))
_LEAF_KU = x509.Extension(ExtensionOID.KEY_USAGE, True, LEAF_KEY_USAGE)
_EKU = {
    "client": x509.Extension(
        ExtensionOID.EXTENDED_KEY_USAGE,
        False,
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
    ),
    "server": x509.Extension(
        ExtensionOID.EXTENDED_KEY_USAGE,
        False,
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
    ),
}


def check_trust_domain(trust_domain: str) -> str:
    """A SPIFFE trust domain: lower-case letters, digits, ``.``, ``-``, ``_``."""
    if not _TRUST_DOMAIN.fullmatch(trust_domain or ""):
        raise PKIError(
            f"bad trust domain {trust_domain!r}: use lower-case letters, digits, '.', '-', '_'"
        )
    return trust_domain


def spiffe_id(trust_domain: str, environment: str, service: str) -> str:
    """``spiffe://<trust-domain>/<environment>/<service>`` after checking each part."""
    check_trust_domain(trust_domain)
    for what, part in (("environment", environment), ("service", service)):
        if not _SEGMENT.fullmatch(part or "") or part in (".", ".."):
            raise PKIError(
                f"bad {what} {part!r} for a SPIFFE ID: use letters, digits, '.', '-', '_'"
            )
    return f"spiffe://{trust_domain}/{environment}/{service}"


def check_dns_name(name: str) -> str:
    """A lower-case LDH host name (no wildcard, no trailing dot)."""
    if not _DNS.fullmatch(name or ""):
        raise PKIError(f"bad DNS name {name!r}: use lower-case letters, digits, '-' and '.'")
    return name


def san_extension(
    *, uris: Iterable[str] = (), dns_names: Iterable[str] = (), ips: Iterable[str] = ()
) -> x509.Extension:
    """subjectAltName; critical only when the subject is empty (never here: we set a CN)."""
    general: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    general += [x509.DNSName(check_dns_name(d)) for d in dns_names]
    for ip in ips:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            raise PKIError(f"bad IP address {ip!r} for a certificate SAN") from None
    if not general:
        raise PKIError("a certificate needs at least one SAN (SPIFFE URI, DNS name or IP)")
    return x509.Extension(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False, x509.SubjectAlternativeName(general)
    )


def leaf_subject(common_name: str, organization: str | None = None) -> x509.Name:
    """Subject of a leaf: CN (informational; identity is in the SAN) and optional O."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
    if organization:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]))
    return x509.Name(attrs)


def authority_key_id(issuer_cert: x509.Certificate) -> x509.Extension:
    """AKI pointing at the issuer's SKI (keyIdentifier only, as RFC 5280 recommends)."""
    ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    return x509.Extension(ExtensionOID.AUTHORITY_KEY_IDENTIFIER, False, aki)


def leaf_extensions(kind: str, aki: x509.Extension) -> tuple[x509.Extension, ...]:
    """The fixed part of a client or server leaf profile (SAN and SKI are added per cert)."""
    if kind not in _EKU:
        raise PKIError(f"unknown leaf profile {kind!r}: use 'client' or 'server'")
    return (_LEAF_BC, _LEAF_KU, _EKU[kind], aki)


def ca_extensions(
    public_key: object, *, path_length: int | None, issuer_ski: x509.SubjectKeyIdentifier | None
) -> list[x509.Extension]:
    """Root (``path_length=None``) or issuing CA (``path_length=0``) extensions (req. 3)."""
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)  # type: ignore[arg-type]
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski or ski)
    return [
        x509.Extension(
            ExtensionOID.BASIC_CONSTRAINTS, True, x509.BasicConstraints(True, path_length)
        ),
        x509.Extension(ExtensionOID.KEY_USAGE, True, CA_KEY_USAGE),
        x509.Extension(ExtensionOID.SUBJECT_KEY_IDENTIFIER, False, ski),
        x509.Extension(ExtensionOID.AUTHORITY_KEY_IDENTIFIER, False, aki),
    ]
