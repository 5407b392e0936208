"""LocalCA: an offline-style root plus one issuing intermediate, kept in one directory.

Layout of the CA directory (0700)::

    root.crt           root certificate (0644)
    intermediate.crt   issuing CA certificate (0644)
    chain.pem          intermediate + root, for verifiers and gateways (0644)
    ca.json            public metadata: trust domain, algorithm, KDF rounds (0644)
    root.key           root private key, encrypted (0600); used only to sign the
                       intermediate and the root CRL, and decrypted only for that
    intermediate.key   issuing CA private key, encrypted (0600)

CA keys at rest (security requirement 10): see ``workbench.pki.cakeys``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from workbench.errors import PKIError
from workbench.pki.cakeys import DEFAULT_KDF_ROUNDS, check_passphrase, encrypt_ca_key, load_ca_key
from workbench.pki.certs import (
    IssuedCertificate,
    IssueRequest,
)
from workbench.pki.crl import DEFAULT_CRL_VALIDITY, CRLSet, Revoked, build_crl, parse_reason
from workbench.pki.issuer import LeafShortcuts
from workbench.pki.keys import (
    DEFAULT_ALGORITHM,
    PrivateKey,
    check_public_key,
    generate_private_key,
    signature_hash,
)
from workbench.pki.keystore import write_public_file, write_secret_file
from workbench.pki.profiles import (
    authority_key_id,
    ca_extensions,
    check_trust_domain,
    leaf_extensions,
    leaf_subject,
    san_extension,
)

__all__ = ["DEFAULT_KDF_ROUNDS", "LocalCA"]

ROOT_LIFETIME = timedelta(days=3650)
INTERMEDIATE_LIFETIME = timedelta(days=1095)
_FILES = ("root.crt", "intermediate.crt", "chain.pem", "ca.json", "root.key", "intermediate.key")


def _ca_name(trust_domain: str, label: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, trust_domain[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{trust_domain[:40]} {label}"),
        ]
    )


def _ca_cert(subject, issuer_name, public_key, signing_key, nb, na, path_length, issuer_ski):  # noqa: ANN001
    exts = ca_extensions(public_key, path_length=path_length, issuer_ski=issuer_ski)
    builder = x509.CertificateBuilder(
        issuer_name, subject, public_key, x509.random_serial_number(), nb, na, exts
    )
    return builder.sign(signing_key, signature_hash(signing_key))


def _read_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        raise PKIError(
            f"cannot read certificate {path}: is this a workbench CA directory?"
        ) from None


class LocalCA(LeafShortcuts):
    """A file-backed CA. Build with ``LocalCA.create`` or ``LocalCA.load``; implements Issuer.

    Holds the decrypted issuing key and the passphrase (to decrypt the root key for root
    CRLs); repr never shows them and pickling is refused (req. 12).
    """

    def __init__(
        self,
        directory: Path,
        trust_domain: str,
        root_cert: x509.Certificate,
        intermediate_cert: x509.Certificate,
        intermediate_key: PrivateKey,
        passphrase: bytes,
    ) -> None:
        self.directory = Path(directory)
        self._trust_domain = trust_domain
        self.root_cert = root_cert
        self.intermediate_cert = intermediate_cert
        self.__key = intermediate_key
        self.__passphrase = passphrase
        # Precomputed once so the per-certificate path only builds what differs.
        self._hash = signature_hash(intermediate_key)
        self._issuer_name = intermediate_cert.subject
        aki = authority_key_id(intermediate_cert)
        self._leaf_exts = {k: leaf_extensions(k, aki) for k in ("client", "server")}
        self._ca_not_before = intermediate_cert.not_valid_before_utc
        self._ca_not_after = intermediate_cert.not_valid_after_utc
        self._spiffe_prefix = f"spiffe://{trust_domain}/"
        pem = intermediate_cert.public_bytes(Encoding.PEM) + root_cert.public_bytes(Encoding.PEM)
        self._chain_pem = pem

    # -- construction -------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path | str,
        *,
        trust_domain: str,
        passphrase: str | bytes,
        algorithm: str = DEFAULT_ALGORITHM,
        now: datetime | None = None,
        kdf_rounds: int = DEFAULT_KDF_ROUNDS,
        root_lifetime: timedelta = ROOT_LIFETIME,
        intermediate_lifetime: timedelta = INTERMEDIATE_LIFETIME,
    ) -> LocalCA:
        """Make a root and an issuing CA in ``directory`` (refused if a CA is already there)."""
        directory = Path(directory)
        check_trust_domain(trust_domain)
        secret = check_passphrase(passphrase, creating=True)
        if not 1 <= kdf_rounds <= 10_000:
            raise PKIError(
                f"bad kdf_rounds {kdf_rounds}: use 1..10000 (default {DEFAULT_KDF_ROUNDS})"
            )
        if any((directory / f).exists() or (directory / f).is_symlink() for f in _FILES):
            raise PKIError(f"{directory} already holds a CA: load it, or choose an empty directory")
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        tag = secrets.token_hex(3)  # tells two CAs of one trust domain apart in names
        root_key = generate_private_key(algorithm)
        inter_key = generate_private_key(algorithm)
        root_name = _ca_name(trust_domain, f"Workbench Root CA {tag}")
        inter_name = _ca_name(trust_domain, f"Workbench Issuing CA {tag}")
        nb = now - timedelta(minutes=5)
        root = _ca_cert(
            root_name,
            root_name,
            root_key.public_key(),
            root_key,
            nb,
            now + root_lifetime,
            None,
            None,
        )
        root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        inter = _ca_cert(
            inter_name,
            root_name,
            inter_key.public_key(),
            root_key,
            nb,
            min(now + intermediate_lifetime, root.not_valid_after_utc),
            0,
            root_ski,
        )
        meta = {
            "format": 1,
            "trust_domain": trust_domain,
            "algorithm": algorithm,
            "key_format": "openssh-bcrypt-aes256ctr",
            "kdf_rounds": kdf_rounds,
            "created": now.isoformat(),
            "root_sha256": hashlib.sha256(root.public_bytes(Encoding.DER)).hexdigest(),
        }
        base = directory.parent
        write_secret_file(
            directory / "root.key", encrypt_ca_key(root_key, secret, kdf_rounds), base=base
        )
        write_secret_file(
            directory / "intermediate.key", encrypt_ca_key(inter_key, secret, kdf_rounds), base=base
        )
        write_public_file(directory / "root.crt", root.public_bytes(Encoding.PEM), base=base)
        write_public_file(
            directory / "intermediate.crt", inter.public_bytes(Encoding.PEM), base=base
        )
        chain = inter.public_bytes(Encoding.PEM) + root.public_bytes(Encoding.PEM)
        write_public_file(directory / "chain.pem", chain, base=base)
        write_public_file(
            directory / "ca.json", json.dumps(meta, indent=2).encode() + b"\n", base=base
        )
        return cls(directory, trust_domain, root, inter, inter_key, secret)

    @classmethod
    def load(cls, directory: Path | str, passphrase: str | bytes | None) -> LocalCA:
        """Open an existing CA; decrypts only the issuing key (one KDF run)."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / "ca.json").read_text("utf-8"))
            trust_domain = check_trust_domain(meta["trust_domain"])
        except (OSError, ValueError, KeyError, TypeError):
            raise PKIError(
                f"{directory} is not a workbench CA directory: create one first"
            ) from None
        secret = check_passphrase(passphrase, creating=False)
        root = _read_cert(directory / "root.crt")
        inter = _read_cert(directory / "intermediate.crt")
        try:
            inter.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            raise PKIError(f"{directory}: intermediate.crt was not issued by root.crt") from None
        key = load_ca_key(directory / "intermediate.key", secret)
        if key.public_key() != inter.public_key():
            raise PKIError(f"{directory}: intermediate.key does not match intermediate.crt")
        return cls(directory, trust_domain, root, inter, key, secret)

    def __repr__(self) -> str:
        return f"LocalCA(directory={str(self.directory)!r}, trust_domain={self._trust_domain!r})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("LocalCA holds a CA private key and cannot be pickled (req. 12)")

    # -- Issuer protocol ------------------------------------------------------------------

    @property
    def trust_domain(self) -> str:
        """The SPIFFE trust domain."""
        return self._trust_domain

    @property
    def chain_pem(self) -> bytes:
        """Issuing CA + root certificates, PEM."""
        return self._chain_pem

    @property
    def root_pem(self) -> bytes:
        """The root certificate, PEM (the only trust anchor verifiers need)."""
        return self.root_cert.public_bytes(Encoding.PEM)

    def sign_csr(
        self, csr: x509.CertificateSigningRequest, request: IssueRequest
    ) -> IssuedCertificate:
        """Certify the CSR's key after checking its self-signature and the algorithm floor."""
        if not csr.is_signature_valid:
            raise PKIError("the CSR signature is invalid: regenerate the CSR with its own key")
        return self._sign(csr.public_key(), request)

    def revoke(
        self,
        serial: int,
        reason: x509.ReasonFlags | str | None = None,
        when: datetime | None = None,
    ) -> Revoked:
        """A revocation record to store; the next ``crls`` call must include it."""
        return Revoked(serial, when or datetime.now(UTC), parse_reason(reason))

    def crls(
        self,
        revoked: Sequence[Revoked],
        crl_number: int,
        now: datetime | None = None,
        *,
        next_update_after: timedelta = DEFAULT_CRL_VALIDITY,
        root_revoked: Sequence[Revoked] = (),
    ) -> CRLSet:
        """CRLs for the issuing CA (``revoked``) and the root (``root_revoked``, usually none).

        Decrypts the root key for the root CRL (one KDF run) and drops it afterwards.
        """
        now = now or datetime.now(UTC)
        inter = build_crl(
            self.intermediate_cert, self.__key, revoked, crl_number, now, next_update_after
        )
        root_key = load_ca_key(self.directory / "root.key", self.__passphrase)
        root = build_crl(self.root_cert, root_key, root_revoked, crl_number, now, next_update_after)
        return CRLSet(inter, root, crl_number)

    # -- issuance -------------------------------------------------------------------------

    def issue(
        self, request: IssueRequest, *, key_algorithm: str = DEFAULT_ALGORITHM
    ) -> IssuedCertificate:
        """Generate a key and certify it; the result carries the private key."""
        key = generate_private_key(key_algorithm)
        return self._sign(key.public_key(), request, key)

    def _sign(
        self, public_key: Any, request: IssueRequest, private_key: PrivateKey | None = None
    ) -> IssuedCertificate:
        check_public_key(public_key)
        now = (request.now or datetime.now(UTC)).replace(microsecond=0)
        not_before = max(now - request.backdate, self._ca_not_before)
        not_after = now + request.lifetime
        if not_after > self._ca_not_after:
            raise PKIError(
                "the certificate would outlive the issuing CA: shorten its lifetime or renew the CA"
            )
        sid = request.spiffe_id
        if sid is not None and not sid.startswith(self._spiffe_prefix):
            raise PKIError(
                f"SPIFFE ID {sid!r} is outside this CA's trust domain {self._trust_domain!r}"
            )
        san = san_extension(
            uris=(sid,) if sid else (), dns_names=request.dns_names, ips=request.ip_addresses
        )
        ski = x509.Extension(
            ExtensionOID.SUBJECT_KEY_IDENTIFIER,
            False,
            x509.SubjectKeyIdentifier.from_public_key(public_key),
        )
        cert = x509.CertificateBuilder(
            self._issuer_name,
            leaf_subject(request.common_name, request.organization),
            public_key,
            x509.random_serial_number(),
            not_before,
            not_after,
            [*self._leaf_exts[request.kind], ski, san],
        ).sign(self.__key, self._hash)  # type: ignore[arg-type]
        return IssuedCertificate.signed(
            cert,
            kind=request.kind,
            not_before=not_before,
            not_after=not_after,
            spiffe_id=sid,
            private_key=private_key,
        )
