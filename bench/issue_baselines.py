"""Baselines for bench/issue_rate.py, each without the workbench: the raw ``cryptography``
loop in memory (the ceiling), the bare creation of the same files on the same file system
(the I/O floor), and an ``openssl req | openssl x509`` process loop (what migration scripts
do)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "bench.test"


def _ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench issuing CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def raw_loop(n: int) -> dict:
    """EC P-256 key + client leaf (same extensions as the workbench's) + PEM, in memory."""
    now = datetime.now(UTC).replace(microsecond=0)
    ca_key, ca_cert = _ca(now)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    fixed = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(True, False, False, False, False, False, False, False, False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        (aki, False),
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    total = 0
    for i in range(n):
        sid = f"svc-{i:05d}"
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, TRUST_DOMAIN),
                        x509.NameAttribute(NameOID.COMMON_NAME, sid),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=7))
        )
        for ext, critical in fixed:
            builder = builder.add_extension(ext, critical)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
        ).add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(f"spiffe://{TRUST_DOMAIN}/prod/{sid}")]
            ),
            False,
        )
        cert = builder.sign(ca_key, hashes.SHA256())
        total += len(cert.public_bytes(serialization.Encoding.PEM))
        total += len(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"certs": n, "seconds": wall, "rate": n / wall, "cpu_rate": n / cpu, "bytes": total}


OPENSSL_SCRIPT = r"""#!/bin/sh
# What a migration script does per service: key + CSR, then sign it with the CA.
set -eu
cd "$1"
i=0
while [ "$i" -lt "$2" ]; do
  i=$((i + 1))
  svc=$(printf 'svc-%05d' "$i")
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "out/$svc.key" -subj "/O=bench.test/CN=$svc" 2>/dev/null |
    openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -sha256 \
      -extfile ext.cnf -extensions leaf -out "out/$svc.crt" 2>/dev/null
  chmod 600 "out/$svc.key"
done
"""

OPENSSL_EXT = """[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:spiffe://bench.test/prod/svc
"""


def openssl_loop(n: int, work: Path) -> dict:
    """``openssl req | openssl x509`` per certificate from a shell loop (n certs)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return {"certs": 0, "seconds": None, "rate": None, "skipped": "openssl not on PATH"}
    d = work / "openssl"
    (d / "out").mkdir(parents=True)
    ca_key, ca_cert = _ca(datetime.now(UTC))
    (d / "ca.key").write_bytes(
        ca_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (d / "ca.key").chmod(0o600)
    (d / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (d / "ext.cnf").write_text(OPENSSL_EXT, encoding="ascii")
    script = d / "issue.sh"
    script.write_text(OPENSSL_SCRIPT, encoding="ascii")
    t0 = time.perf_counter()
    subprocess.run(["/bin/sh", str(script), str(d), str(n)], check=True)  # noqa: S603
    wall = time.perf_counter() - t0
    made = len(list((d / "out").glob("*.crt")))
    if made != n:
        raise SystemExit(f"the openssl loop made {made} certificates, expected {n}")
    return {"certs": n, "seconds": wall, "rate": n / wall}


def bare_files_loop(n: int, base: Path) -> dict:
    """The I/O floor on the same file system: per certificate three files of the workbench's
    sizes (key 0600, cert, chain) in one 0700 directory, then one flush; no crypto, no
    state. Every layout of a certificate's files needs at least this."""
    base.mkdir(mode=0o700)
    sizes = (241, 790, 2370)  # EC key PEM, leaf PEM, leaf + intermediate + root
    blobs = [b"x" * size for size in sizes]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    t0 = time.perf_counter()
    dir_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(n):
            for j, blob in enumerate(blobs):
                fd = os.open(f"svc-{i:05d}.{j}", flags, 0o600, dir_fd=dir_fd)
                try:
                    os.write(fd, blob)
                finally:
                    os.close(fd)
    finally:
        os.close(dir_fd)
    os.sync()
    wall = time.perf_counter() - t0
    return {"certs": n, "seconds": wall, "rate": n / wall}
