"""Test PKI for the gateway tests: root -> intermediate -> leaves, CRLs, and a foreign CA.

Self-contained (cryptography only) so these tests do not depend on workbench.pki. Leaves look
like the workbench PKI's: subject O=<trust domain>, CN=<service>, URI SAN
``spiffe://acme.test/prod/<service>``, EKU clientAuth.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from testkit import ensure_gateway_available, gateway_param, nginx_available  # noqa: F401

TD = "acme.test"


def spiffe(service: str, env: str = "prod") -> str:
    return f"spiffe://{TD}/{env}/{service}"


def _name(cn: str, org: str = TD) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ku(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class _CA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    revoked: list[int] = field(default_factory=list)


def _make_ca(cn: str, parent: _CA | None = None, now: datetime | None = None) -> _CA:
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name = parent.cert.subject if parent else _name(cn)
    signer = parent.key if parent else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0 if parent else 1), True)
        .add_extension(_ku(ca=True), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if parent:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), False
        )
    return _CA(builder.sign(signer, hashes.SHA256()), key)


def _pem_cert(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.PEM)


def _pem_key(k: ec.EllipticCurvePrivateKey) -> bytes:
    return k.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@dataclass
class Identity:
    """A client credential on disk."""

    service: str
    cert: Path
    key: Path
    serial: int

    def context(self, ca_file: Path | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


class TestPKI:
    """Root + intermediate CA in ``directory``; leaves issued on demand."""

    __test__ = False

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = _make_ca("Test Root")
        self.inter = _make_ca("Test Issuing", self.root)
        self.foreign = _make_ca("Foreign Root")
        self.ca_bundle = self.dir / "client-ca.pem"
        self.ca_bundle.write_bytes(_pem_cert(self.inter.cert) + _pem_cert(self.root.cert))
        self.server_ca = self.dir / "server-ca.pem"
        self.server_ca.write_bytes(_pem_cert(self.root.cert))
        self.server_cert, self.server_key = self._leaf(
            self.inter, "gateway", server=True, chain=True
        )
        self.crl = self.dir / "crl.pem"
        self._identities: dict[tuple[str, str], Identity] = {}

    def _leaf(
        self,
        ca: _CA,
        cn: str,
        *,
        uri: str | None = None,
        server: bool = False,
        chain: bool = False,
        name: str | None = None,
    ) -> tuple[Path, Path]:
        now = datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        san: list[x509.GeneralName] = []
        if uri:
            san.append(x509.UniformResourceIdentifier(uri))
        if server:
            san += [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
        eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(_ku(ca=False), True)
            .add_extension(x509.ExtendedKeyUsage([eku]), False)
            .add_extension(x509.SubjectAlternativeName(san), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
            )
            .sign(ca.key, hashes.SHA256())
        )
        stem = name or cn
        cert_path, key_path = self.dir / f"{stem}.crt", self.dir / f"{stem}.key"
        data = _pem_cert(cert) + (_pem_cert(ca.cert) if chain else b"")
        cert_path.write_bytes(data)
        _write_private(key_path, _pem_key(key))
        self._last_serial = cert.serial_number
        return cert_path, key_path

    def client(
        self,
        service: str,
        *,
        env: str = "prod",
        foreign: bool = False,
        cn: str | None = None,
        tag: str = "",
    ) -> Identity:
        """A client cert for ``service`` (cached); ``foreign`` = signed by another CA."""
        k = (service, f"{env}{foreign}{cn}{tag}")
        if k not in self._identities:
            ca = self.foreign if foreign else self.inter
            flags = ("-foreign" if foreign else "") + (f"-{cn}" if cn else "") + tag
            stem = f"client-{service}-{env}{flags}"
            c, key = self._leaf(ca, cn or service, uri=spiffe(service, env), chain=True, name=stem)
            self._identities[k] = Identity(service, c, key, self._last_serial)
        return self._identities[k]

    def write_crl(self, revoked: list[Identity]) -> Path:
        """One CRL per CA (root and issuing), as nginx and OpenSSL's chain check want."""
        now = datetime.now(UTC)
        out = b""
        for ca, serials in ((self.root, []), (self.inter, [i.serial for i in revoked])):
            b = (
                x509.CertificateRevocationListBuilder()
                .issuer_name(ca.cert.subject)
                .last_update(now - timedelta(minutes=1))
                .next_update(now + timedelta(days=1))
                .add_extension(x509.CRLNumber(1), False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
                )
            )
            for s in serials:
                b = b.add_revoked_certificate(
                    x509.RevokedCertificateBuilder()
                    .serial_number(s)
                    .revocation_date(now - timedelta(seconds=30))
                    .build()
                )
            out += b.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        self.crl.write_bytes(out)
        return self.crl


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> TestPKI:
    return TestPKI(tmp_path_factory.mktemp("pki"))
