"""Throwaway PKI for the verifier tests and bench (the PKI package is written concurrently,
so this uses cryptography directly): a CA with a CRL, a server cert, client certs for two
services, a revoked one, and a cert from a foreign CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workbench.secrets import SecretValue
from workbench.verify import CertIdentity, Identities

OLD_KEY = "canary-OLDKEY-7f3a9c1e5b2d4f60"
NEW_SPIFFE = "spiffe://acme.test/svc/billing"
OTHER_SPIFFE = "spiffe://acme.test/svc/reporting"
SECOND_SPIFFE = "spiffe://acme.test/svc/payroll"
API_HOST = "api.acme.test"


@dataclass(frozen=True)
class Pki:
    dir: Path
    ca: Path
    crl: Path
    server_cert: Path
    server_key: Path
    new: CertIdentity
    other: CertIdentity
    revoked: CertIdentity
    foreign: CertIdentity
    second: CertIdentity


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _make_ca(cn: str, now: dt.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(ca_key, ca_cert, cn, now, *, sans, eku):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def build_pki(d: Path) -> Pki:
    """A test CA, server cert, client certs, a revoked one with its CRL, and a foreign CA."""
    os.chmod(d, 0o700)
    now = dt.datetime.now(dt.UTC)
    ca_key, ca = _make_ca("Acme Test CA", now)
    f_key, f_ca = _make_ca("Foreign CA", now)
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(name, key, cacert, cn, sans, eku=ExtendedKeyUsageOID.CLIENT_AUTH):
        k, c = _leaf(key, cacert, cn, now, sans=sans, eku=eku)
        (d / f"{name}.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
        _write_key(d / f"{name}.key", k)
        return c

    issue(
        "server",
        ca_key,
        ca,
        "localhost",
        [
            x509.DNSName("localhost"),
            x509.DNSName(API_HOST),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ],
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    issue("new", ca_key, ca, "billing", [x509.UniformResourceIdentifier(NEW_SPIFFE)])
    issue("other", ca_key, ca, "reporting", [x509.UniformResourceIdentifier(OTHER_SPIFFE)])
    issue("second", ca_key, ca, "payroll", [x509.UniformResourceIdentifier(SECOND_SPIFFE)])
    revoked = issue(
        "revoked", ca_key, ca, "billing-old", [x509.UniformResourceIdentifier(NEW_SPIFFE)]
    )
    issue("foreign", f_key, f_ca, "billing", [x509.UniformResourceIdentifier(NEW_SPIFFE)])
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked.serial_number)
            .revocation_date(now - dt.timedelta(minutes=1))
            .build()
        )
        .sign(ca_key, hashes.SHA256())
    )
    (d / "crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))

    def ident(name: str) -> CertIdentity:
        return CertIdentity(d / f"{name}.pem", d / f"{name}.key")

    return Pki(
        d,
        d / "ca.pem",
        d / "crl.pem",
        d / "server.pem",
        d / "server.key",
        ident("new"),
        ident("other"),
        ident("revoked"),
        ident("foreign"),
        ident("second"),
    )


def identities(
    pki: Pki, *, negatives: bool = True, old_key: str = OLD_KEY, consumers: int = 1
) -> Identities:
    return Identities(
        new_cert=pki.new,
        old_key=SecretValue(old_key),
        server_ca=pki.ca,
        foreign_cert=pki.foreign if negatives else None,
        revoked_cert=pki.revoked if negatives else None,
        other_service_cert=pki.other if negatives else None,
        more_controls=(pki.second,) if consumers > 1 else (),
    )
