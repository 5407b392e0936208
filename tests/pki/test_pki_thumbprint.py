"""Req. 1: x5t#S256 against an independent openssl pipeline; PKCS#12 bundles."""

from __future__ import annotations

import base64
import subprocess

from cryptography.hazmat.primitives.serialization import pkcs12

from workbench.pki import LocalCA, make_pkcs12, sha256_fingerprint, x5t_s256


def openssl_x5t(pem: bytes) -> str:
    der = subprocess.run(
        ["openssl", "x509", "-outform", "DER"], input=pem, capture_output=True, check=True
    ).stdout
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary"], input=der, capture_output=True, check=True
    ).stdout
    b64 = subprocess.run(
        ["openssl", "base64", "-A"], input=digest, capture_output=True, check=True
    ).stdout
    return b64.decode().strip().rstrip("=").replace("+", "-").replace("/", "_")


def test_x5t_s256_matches_openssl(ca: LocalCA):
    for issued in (ca.issue_client("svc", "prod"), ca.issue_server()):
        expected = openssl_x5t(issued.pem)
        assert issued.x5t_s256 == expected == x5t_s256(issued.certificate) == x5t_s256(issued.der)
        assert len(issued.x5t_s256) == 43 and "=" not in issued.x5t_s256
        digest = base64.urlsafe_b64decode(issued.x5t_s256 + "=")
        assert digest.hex() == issued.sha256_fingerprint == sha256_fingerprint(issued.certificate)
        fp = subprocess.run(
            ["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
            input=issued.pem,
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert fp.strip().split("=", 1)[1].lower() == sha256_fingerprint(issued.der, sep=":")


def test_pkcs12_bundle(ca: LocalCA, tmp_path):
    issued = ca.issue_client("billing-worker", "prod")
    data = make_pkcs12(
        issued, ca.chain_pem, alias="billing-worker", password="s3cret-pw", kdf_rounds=1000
    )
    loaded = pkcs12.load_pkcs12(data, b"s3cret-pw")
    assert loaded.cert.friendly_name == b"billing-worker"
    assert loaded.cert.certificate == issued.certificate
    assert loaded.key.public_key() == issued.private_key.public_key()
    assert [c.certificate for c in loaded.additional_certs] == [ca.intermediate_cert, ca.root_cert]
    path = tmp_path / "b.p12"
    path.write_bytes(data)
    info = subprocess.run(
        ["openssl", "pkcs12", "-in", str(path), "-info", "-noout", "-passin", "pass:s3cret-pw"],
        capture_output=True,
        text=True,
    )
    assert info.returncode == 0, info.stderr
    assert (
        "PBES2, PBKDF2, AES-256-CBC, Iteration 1000, PRF hmacWithSHA256"
        in info.stderr + info.stdout
    )
