"""The tests' own certificate authority: cryptography only, independent of workbench.pki, so
a test that checks the workbench's verifier or a gateway against it does not lean on the code
it checks. The gateway, verifier and token tests all build their certificates here.

``TestCA.root()`` / ``ca.child()`` make CAs (EC P-256, BasicConstraints, key usage, SKI/AKI),
``ca.leaf()`` a client or server leaf, ``ca.crl()`` a CRL; ``TestPKI`` is the gateways'
root -> issuing CA -> leaves set, with a foreign root and one CRL per CA on disk.

trustme was considered: it has no URI SANs (SPIFFE ids), no CRLs and no client-only EKU.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TD = "acme.test"
"""The trust domain of the test identities (``spiffe://acme.test/...``)."""


def spiffe(service: str, env: str = "prod") -> str:
    return f"spiffe://{TD}/{env}/{service}"


def name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key_usage(*, ca: bool) -> x509.KeyUsage:
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


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key) -> bytes:  # noqa: ANN001 - any private key type
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path, data: bytes) -> None:
    """``data`` into ``path``, created 0600 (private keys never exist world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def sans(
    uris: Iterable[str] = (), dns: Iterable[str] = (), ips: Iterable[str] = ()
) -> list[x509.GeneralName]:
    return [
        *(x509.UniformResourceIdentifier(u) for u in uris),
        *(x509.DNSName(d) for d in dns),
        *(x509.IPAddress(ip_address(i)) for i in ips),
    ]


def certificate(
    subject: x509.Name,
    public_key,  # noqa: ANN001 - any public key type
    *,
    issuer: x509.Name,
    signer,  # noqa: ANN001 - any private key type
    not_before: datetime,
    not_after: datetime,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """One certificate, every field given: the single place the tests' certificates are built."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical)
    digest = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signer, digest)


@dataclass
class Leaf:
    """A leaf certificate with its key and the CA that signed it."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    issuer: TestCA

    def write(self, cert_path: Path, key_path: Path, *, chain: bool = False) -> None:
        """The certificate (followed by its issuer's when ``chain``) and the key, 0600."""
        cert_path.write_bytes(pem_cert(self.cert) + (pem_cert(self.issuer.cert) if chain else b""))
        write_private(key_path, pem_key(self.key))


@dataclass
class TestCA:
    """A CA (root or intermediate) that signs leaves, children and CRLs."""

    __test__ = False

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def root(
        cls, cn: str, *, org: str | None = None, now: datetime | None = None, days: int = 30
    ) -> TestCA:
        return cls._make(name(cn, org), None, now=now, days=days, path_length=1)

    def child(self, cn: str, *, org: str | None = None, days: int = 30) -> TestCA:
        """An issuing CA under this one (path length 0)."""
        now = self.cert.not_valid_before_utc + timedelta(minutes=5)
        return self._make(name(cn, org), self, now=now, days=days, path_length=0)

    @classmethod
    def _make(
        cls,
        subject: x509.Name,
        parent: TestCA | None,
        *,
        now: datetime | None,
        days: int,
        path_length: int,
    ) -> TestCA:
        now = now or datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        extensions: list[tuple[x509.ExtensionType, bool]] = [
            (x509.BasicConstraints(ca=True, path_length=path_length), True),
            (key_usage(ca=True), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ]
        if parent:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key())
            extensions.append((aki, False))
        cert = certificate(
            subject,
            key.public_key(),
            issuer=parent.cert.subject if parent else subject,
            signer=parent.key if parent else key,
            not_before=now - timedelta(minutes=5),
            not_after=now + timedelta(days=days),
            extensions=extensions,
        )
        return cls(cert, key)

    @property
    def pem(self) -> bytes:
        return pem_cert(self.cert)

    def leaf(
        self,
        cn: str,
        *,
        org: str | None = None,
        uris: Iterable[str] = (),
        dns: Iterable[str] = (),
        ips: Iterable[str] = (),
        server: bool = False,
        now: datetime | None = None,
        days: int = 2,
    ) -> Leaf:
        """A client (EKU clientAuth) or ``server`` (serverAuth) leaf with these SANs."""
        now = now or datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        cert = certificate(
            name(cn, org),
            key.public_key(),
            issuer=self.cert.subject,
            signer=self.key,
            not_before=now - timedelta(minutes=5),
            not_after=now + timedelta(days=days),
            extensions=[
                (x509.BasicConstraints(ca=False, path_length=None), True),
                (key_usage(ca=False), True),
                (x509.ExtendedKeyUsage([eku]), False),
                (x509.SubjectAlternativeName(sans(uris, dns, ips)), False),
                (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
                (x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False),
            ],
        )
        return Leaf(cert, key, self)

    def crl(self, serials: Iterable[int] = (), *, now: datetime | None = None) -> bytes:
        """A PEM CRL (number 1, AKI) revoking ``serials``."""
        now = now or datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(now + timedelta(days=1))
            .add_extension(x509.CRLNumber(1), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - timedelta(minutes=1))
                .build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


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


@dataclass
class TestPKI:
    """Root + issuing CA in ``dir`` (and a foreign root); leaves issued on demand. Leaves look
    like the workbench PKI's: subject O=<trust domain>, CN=<service>, URI SAN
    ``spiffe://acme.test/<env>/<service>``, EKU clientAuth; clients present their chain."""

    __test__ = False

    dir: Path
    _identities: dict[tuple[str, str], Identity] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = TestCA.root("Test Root", org=TD)
        self.inter = self.root.child("Test Issuing", org=TD)
        self.foreign = TestCA.root("Foreign Root", org=TD)
        self.ca_bundle = self.dir / "client-ca.pem"
        self.ca_bundle.write_bytes(self.inter.pem + self.root.pem)
        self.server_ca = self.dir / "server-ca.pem"
        self.server_ca.write_bytes(self.root.pem)
        server = self.inter.leaf(
            "gateway", org=TD, dns=["localhost"], ips=["127.0.0.1"], server=True
        )
        self.server_cert, self.server_key = self.dir / "gateway.crt", self.dir / "gateway.key"
        server.write(self.server_cert, self.server_key, chain=True)
        self.crl = self.dir / "crl.pem"

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
            leaf = ca.leaf(cn or service, org=TD, uris=[spiffe(service, env)])
            cert, key = self.dir / f"{stem}.crt", self.dir / f"{stem}.key"
            leaf.write(cert, key, chain=True)
            self._identities[k] = Identity(service, cert, key, leaf.cert.serial_number)
        return self._identities[k]

    def write_crl(self, revoked: list[Identity]) -> Path:
        """One CRL per CA (root and issuing), as nginx and OpenSSL's chain check want."""
        self.crl.write_bytes(self.root.crl() + self.inter.crl(i.serial for i in revoked))
        return self.crl
