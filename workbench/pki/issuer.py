"""The issuer seam: LocalCA implements it today; an external CA (e.g. Vault PKI's
``/v1/pki/sign/:role``, ``/v1/pki/revoke``, ``/v1/pki/crl/pem``) can replace it later.

The caller (the workspace) owns revocation state: ``revoke`` returns the record to store,
and ``crls`` is given every stored record plus the next CRL number. A local issuer just
signs them; a remote one would tell its CA in ``revoke`` and may fetch its CRLs instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cryptography import x509

from workbench.pki.certs import (
    DEFAULT_CLIENT_LIFETIME,
    DEFAULT_SERVER_LIFETIME,
    IssuedCertificate,
    IssueRequest,
)
from workbench.pki.crl import CRLSet, Revoked
from workbench.pki.keys import DEFAULT_ALGORITHM, generate_private_key, signature_hash
from workbench.pki.profiles import leaf_subject

__all__ = ["Issuer", "LeafShortcuts", "issue_via_csr", "make_csr"]


@runtime_checkable
class Issuer(Protocol):
    """Anything that signs CSRs for one trust domain and publishes CRLs."""

    @property
    def trust_domain(self) -> str:
        """The SPIFFE trust domain this issuer certifies."""
        ...

    @property
    def chain_pem(self) -> bytes:
        """Issuing CA + root, PEM, for verifiers and gateways."""
        ...

    def sign_csr(
        self, csr: x509.CertificateSigningRequest, request: IssueRequest
    ) -> IssuedCertificate:
        """Certify the CSR's public key with the identity in ``request`` (never the CSR's)."""
        ...

    def revoke(
        self,
        serial: int,
        reason: x509.ReasonFlags | str | None = None,
        when: datetime | None = None,
    ) -> Revoked:
        """Record (and for a remote CA, perform) a revocation; the caller stores the result."""
        ...

    def crls(
        self, revoked: Sequence[Revoked], crl_number: int, now: datetime | None = None
    ) -> CRLSet:
        """One CRL per CA in the chain."""
        ...


def make_csr(key: object, common_name: str = "workbench") -> x509.CertificateSigningRequest:
    """A minimal CSR proving possession of ``key`` (the issuer ignores its subject)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(leaf_subject(common_name))
    return builder.sign(key, signature_hash(key))  # type: ignore[arg-type]


def issue_via_csr(
    issuer: Issuer, request: IssueRequest, *, key_algorithm: str = DEFAULT_ALGORITHM
) -> IssuedCertificate:
    """Generate a key locally, have any issuer sign its CSR, attach the key to the result."""
    key = generate_private_key(key_algorithm)
    issued = issuer.sign_csr(make_csr(key, request.common_name), request)
    return dataclasses.replace(issued, private_key=key)


class LeafShortcuts:
    """``issue_client`` and ``issue_server`` for an issuer that has ``trust_domain`` and
    ``issue(request, key_algorithm=...)``: one body for the local CA and Vault."""

    if TYPE_CHECKING:
        trust_domain: str

        def issue(
            self, request: IssueRequest, *, key_algorithm: str = DEFAULT_ALGORITHM
        ) -> IssuedCertificate: ...

    def issue_client(
        self,
        service: str,
        environment: str,
        trust_domain: str | None = None,
        *,
        dns_names: Sequence[str] = (),
        lifetime: timedelta = DEFAULT_CLIENT_LIFETIME,
        now: datetime | None = None,
        key_algorithm: str = DEFAULT_ALGORITHM,
    ) -> IssuedCertificate:
        """A client cert with SAN ``spiffe://<trust-domain>/<environment>/<service>``."""
        request = IssueRequest.client(
            service,
            environment,
            trust_domain or self.trust_domain,
            dns_names=tuple(dns_names),
            lifetime=lifetime,
            now=now,
        )
        return self.issue(request, key_algorithm=key_algorithm)

    def issue_server(
        self,
        common_name: str = "localhost",
        *,
        dns_names: Sequence[str] = ("localhost",),
        ip_addresses: Sequence[str] = ("127.0.0.1",),
        lifetime: timedelta = DEFAULT_SERVER_LIFETIME,
        now: datetime | None = None,
        key_algorithm: str = DEFAULT_ALGORITHM,
    ) -> IssuedCertificate:
        """A server (gateway) cert, EKU serverAuth, SAN DNS/IP."""
        request = IssueRequest.server(
            common_name,
            dns_names=tuple(dns_names),
            ip_addresses=tuple(ip_addresses),
            trust_domain=self.trust_domain,
            lifetime=lifetime,
            now=now,
        )
        return self.issue(request, key_algorithm=key_algorithm)
