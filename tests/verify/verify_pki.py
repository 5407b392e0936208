"""Throwaway PKI for the verifier tests and bench, from the tests' own CA (tests/testca.py,
independent of workbench.pki): a CA with a CRL, a server cert, client certs for three
services, a revoked one, and a cert from a foreign CA."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from testca import TestCA

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


def build_pki(d: Path) -> Pki:
    """A test CA, server cert, client certs, a revoked one with its CRL, and a foreign CA."""
    os.chmod(d, 0o700)
    ca = TestCA.root("Acme Test CA", days=2)
    foreign = TestCA.root("Foreign CA", days=2)
    (d / "ca.pem").write_bytes(ca.pem)

    def issue(name: str, issuer: TestCA, cn: str, uri: str) -> int:
        leaf = issuer.leaf(cn, uris=[uri], days=1)
        leaf.write(d / f"{name}.pem", d / f"{name}.key")
        return leaf.cert.serial_number

    server = ca.leaf(
        "localhost", dns=["localhost", API_HOST], ips=["127.0.0.1", "::1"], server=True, days=1
    )
    server.write(d / "server.pem", d / "server.key")
    issue("new", ca, "billing", NEW_SPIFFE)
    issue("other", ca, "reporting", OTHER_SPIFFE)
    issue("second", ca, "payroll", SECOND_SPIFFE)
    revoked = issue("revoked", ca, "billing-old", NEW_SPIFFE)
    issue("foreign", foreign, "billing", NEW_SPIFFE)
    (d / "crl.pem").write_bytes(ca.crl([revoked]))

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
