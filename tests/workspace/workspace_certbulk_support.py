"""Helpers for test_workspace_certbulk.py (imported by name; also run in child processes)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from workbench.workspace import CertificateMaterial, CertificateRequest, Workspace

STEP = "k-pay"


def make_issuer(service: str, calls: list[str] | None = None):
    """An issuer of a self-signed EC certificate with a SPIFFE SAN (records its calls)."""

    def issue() -> CertificateMaterial:
        if calls is not None:
            calls.append(service)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(f"spiffe://acme.test/{service}")]
                ),
                False,
            )
            .sign(key, hashes.SHA256())
        )
        pem = cert.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return CertificateMaterial(cert_pem=pem, key_pem=key_pem, chain_pem=pem)

    return issue


def requests(services, calls: list[str] | None = None) -> list[CertificateRequest]:
    return [CertificateRequest(s, make_issuer(s, calls)) for s in services]


def use_writer(writer: str) -> None:
    """Make bulk issuance create its files ``in-process`` or through the ``helper`` process
    whatever the count (the threshold is the only switch)."""
    from workbench.workspace import filehelper

    filehelper.HELPER_MIN_FILES = 0 if writer == "helper" else 10**9


def child_main(argv: list[str]) -> None:
    """``python -m workspace_certbulk_support WSDIR MODE WRITER SERVICE...`` (MODE: first,
    renew, crash, renew-crash; WRITER: in-process or helper): bulk issue; ``*crash`` kills
    itself after the files are written."""
    from workbench.workspace import ensure_certificates

    wsdir, mode, writer, services = argv[0], argv[1], argv[2], argv[3:]
    use_writer(writer)

    def die(records):
        print(len(records), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    with Workspace.open(wsdir) as ws:
        results = ensure_certificates(
            ws,
            requests(services),
            step_key=STEP,
            renew=mode.startswith("renew"),
            after_files=die if mode.endswith("crash") else None,
        )
        for record, issued in results:
            print(record.service, record.serial, issued)


if __name__ == "__main__":
    child_main(sys.argv[1:])
