"""Issuance throughput: the per-certificate path must stay within reach of the raw
cryptography loop (EC P-256 keygen + sign + PEM in memory). The workspace benchmark needs
>= 40% of the raw rate end to end, so the in-memory path alone must be well above that."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from workbench.pki import LocalCA

N = 200


def raw_loop(ca: LocalCA, n: int) -> None:
    issuer_key = ca._LocalCA__key  # the same signing key, to compare like with like
    issuer = ca.intermediate_cert.subject
    now = datetime.now(UTC)
    for i in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"svc-{i}")]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=7))
            .sign(issuer_key, hashes.SHA256())
        )
        cert.public_bytes(Encoding.PEM)
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def our_loop(ca: LocalCA, n: int) -> None:
    for i in range(n):
        issued = ca.issue_client(f"svc-{i}", "prod")
        issued.private_key_pem()  # cert PEM is already in the result


def rate(fn, ca, n) -> float:
    start = time.perf_counter()
    fn(ca, n)
    return n / (time.perf_counter() - start)


def test_issuance_rate_vs_raw_loop(ca: LocalCA):
    raw, ours = [], []
    for _ in range(3):  # interleaved, best of three: robust to a noisy neighbour
        raw.append(rate(raw_loop, ca, N))
        ours.append(rate(our_loop, ca, N))
    ratio = max(ours) / max(raw)
    print(f"raw {max(raw):.0f}/s, issue_client {max(ours):.0f}/s, ratio {ratio:.2f}")
    assert ratio >= 0.4
