"""A throwaway CA and a look-alike certificate: the "foreign CA" probe is never skipped.

Without ``--foreign-cert`` the verifier makes, in memory, a CA of its own and a client
certificate with the same subject and SANs as the presented one. The CA's name is not the
real issuer's: a chain naming a trusted CA but signed by another key is a hard signature
error even for ``optional_no_ca``, which would hide exactly the gateway this probe is for.
A gateway that accepts any client certificate (nginx ``ssl_verify_client
optional_no_ca``, a proxy that only checks the SAN) accepts it; a correct one refuses it.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
import tempfile
from pathlib import Path

__all__ = ["lookalike_context"]

_LIFETIME = dt.timedelta(hours=2)
_cache: dict[tuple[str, int, str], ssl.SSLContext] = {}


def _build(chain: Path) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(x509.NameOID.COMMON_NAME, "workbench throwaway foreign CA")]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
    )
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=san.critical)
    except x509.ExtensionNotFound:
        pass
    cert = builder.sign(ca_key, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM)  # the leaf alone, as a stray client
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, key_pem


def lookalike_context(chain: Path, server_ca: Path) -> ssl.SSLContext:
    """A client context presenting a foreign-CA certificate that looks like ``chain``'s leaf.

    Made once per (chain, server CA) in this process; the throwaway key only ever exists in
    a 0600 file inside a 0700 temporary directory for the instant ``load_cert_chain`` reads it.
    """
    from workbench.verify.probe import client_context

    st = Path(chain).stat()
    cache_key = (str(chain), st.st_mtime_ns, str(server_ca))
    ctx = _cache.get(cache_key)
    if ctx is not None:
        return ctx
    pem, key_pem = _build(Path(chain))
    with tempfile.TemporaryDirectory(prefix="wb-foreign-") as tmp:
        os.chmod(tmp, 0o700)
        cert_file, key_file = Path(tmp) / "foreign.pem", Path(tmp) / "foreign.key"
        cert_file.write_bytes(pem)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        ctx = client_context(server_ca, cert_file, key_file)
    _cache[cache_key] = ctx
    return ctx
