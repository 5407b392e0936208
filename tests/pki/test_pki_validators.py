"""Req. 4 and 6: every chain goes through three independent validators (openssl verify,
cryptography's client verifier, a real TLS handshake), which accept the good leaf and
reject an expired leaf, a leaf from another CA, a serverAuth-only leaf and a revoked one."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from workbench.pki import IssueRequest, LocalCA


@pytest.fixture(scope="module")
def leaves(ca: LocalCA, other_ca: LocalCA, leaf_writer, tmp_path_factory):
    """name -> (issued, files, issuing CA) for every case, plus the CRL file."""
    now = datetime.now(UTC)  # not at import: a long suite would date the CRL before the leaves
    good = ca.issue_client("billing-worker", "prod", dns_names=["billing.acme.test"])
    expired = ca.issue_client(
        "billing-worker", "prod", now=now - timedelta(days=30), lifetime=timedelta(days=1)
    )
    foreign = other_ca.issue_client("billing-worker", "prod")
    server_only = ca.issue(
        IssueRequest(
            "server", "billing-worker", "spiffe://acme.test/prod/billing-worker", ("localhost",)
        )
    )
    revoked = ca.issue_client("refund-worker", "prod")
    crls = ca.crls([ca.revoke(revoked.serial, "keyCompromise", now)], crl_number=1, now=now)
    crl_file = tmp_path_factory.mktemp("crl") / "crls.pem"
    crl_file.write_bytes(crls.combined_pem)
    cases = {
        "good": (good, ca),
        "expired": (expired, ca),
        "foreign": (foreign, other_ca),
        "server_only": (server_only, ca),
        "revoked": (revoked, ca),
    }
    out = {name: (i, leaf_writer(name, i, issuer), issuer) for name, (i, issuer) in cases.items()}
    return out, crl_file, crls


def openssl_verify(root: Path, leaf, *, crl_file: Path | None = None):
    cmd = ["openssl", "verify", "-purpose", "sslclient", "-CAfile", str(root)]
    if crl_file is not None:
        cmd += ["-crl_check_all", "-CRLfile", str(crl_file)]
    cmd += ["-untrusted", str(leaf.intermediate), str(leaf.cert)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def crypto_verify(root: x509.Certificate, issued, intermediate: x509.Certificate):
    # Validated at the moment of the check, as a peer would, whenever the leaf was issued.
    verifier = PolicyBuilder().store(Store([root])).time(datetime.now(UTC)).build_client_verifier()
    return verifier.verify(issued.certificate, [intermediate])


# ---------------------------------------------------------------- (a) openssl verify


def test_openssl_accepts_good_leaf_with_and_without_crls(ca, leaves):
    cases, crl_file, _ = leaves
    _, files, _ = cases["good"]
    for crl in (None, crl_file):
        proc = openssl_verify(ca.directory / "root.crt", files, crl_file=crl)
        assert proc.returncode == 0 and proc.stdout.strip().endswith(": OK"), (
            proc.stdout + proc.stderr
        )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("expired", "certificate has expired"),
        ("foreign", "unable to get local issuer certificate"),
        ("server_only", "certificate purpose"),  # "unsuitable" in OpenSSL 3.0,
    ],
)
def test_openssl_rejects(ca, leaves, case, expected):
    cases, _, _ = leaves
    _, files, _ = cases[case]
    # the foreign leaf is checked with its own issuer as the "untrusted" hint: the root decides
    proc = openssl_verify(ca.directory / "root.crt", files)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr


def test_openssl_rejects_revoked_leaf_with_crl_check_all(ca, leaves):
    cases, crl_file, _ = leaves
    _, files, _ = cases["revoked"]
    assert openssl_verify(ca.directory / "root.crt", files).returncode == 0  # good before CRLs
    proc = openssl_verify(ca.directory / "root.crt", files, crl_file=crl_file)
    assert proc.returncode != 0 and "certificate revoked" in proc.stdout + proc.stderr


# ---------------------------------------------------------- (b) cryptography verifier


def test_cryptography_accepts_good_leaf(ca, leaves):
    cases, _, _ = leaves
    issued, _, _ = cases["good"]
    verified = crypto_verify(ca.root_cert, issued, ca.intermediate_cert)
    assert x509.UniformResourceIdentifier(issued.spiffe_id) in verified.subjects


@pytest.mark.parametrize("case", ["expired", "foreign", "server_only"])
def test_cryptography_rejects(ca, leaves, case):
    cases, _, _ = leaves
    issued, _, issuer = cases[case]
    with pytest.raises(VerificationError):
        crypto_verify(ca.root_cert, issued, issuer.intermediate_cert)


def test_cryptography_revocation_by_crl_lookup(ca, leaves):
    # cryptography's verifier ignores CRLs: the path validates, so revocation is checked by
    # looking the serial up in the parsed, signature-checked CRL of the issuing CA.
    cases, _, crls = leaves
    revoked, _, _ = cases["revoked"]
    good, _, _ = cases["good"]
    crypto_verify(ca.root_cert, revoked, ca.intermediate_cert)
    crl = x509.load_pem_x509_crl(crls.intermediate_pem)
    assert crl.is_signature_valid(ca.intermediate_cert.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(revoked.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert crl.get_revoked_certificate_by_serial_number(good.serial) is None


# ---------------------------------------------------------------- (c) TLS handshake


def test_tls_accepts_good_leaf_with_and_without_crls(ca, leaves, server_files, handshake):
    cases, crl_file, _ = leaves
    issued, files, _ = cases["good"]
    for crl in (None, crl_file):
        result = handshake(
            root=ca.directory / "root.crt", server=server_files, client=files, crl_file=crl
        )
        assert result.accepted, (result.server_error, result.client_error)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("expired", "certificate has expired"),
        ("foreign", "unable to get local issuer certificate"),
        ("server_only", "certificate purpose"),  # "unsuitable" in OpenSSL 3.0,
    ],
)
def test_tls_rejects(ca, leaves, server_files, handshake, case, expected):
    cases, _, _ = leaves
    _, files, _ = cases[case]
    result = handshake(root=ca.directory / "root.crt", server=server_files, client=files)
    assert not result.accepted
    assert "CERTIFICATE_VERIFY_FAILED" in result.server_reason
    assert expected in result.server_reason


def test_tls_rejects_revoked_leaf_with_crl_check_chain(ca, leaves, server_files, handshake):
    cases, crl_file, _ = leaves
    _, files, _ = cases["revoked"]
    root = ca.directory / "root.crt"
    assert handshake(root=root, server=server_files, client=files).accepted
    result = handshake(root=root, server=server_files, client=files, crl_file=crl_file)
    assert not result.accepted and "certificate revoked" in result.server_reason


# ------------------------------------------------------- other algorithms (req. 7)


@pytest.mark.parametrize("algorithm", ["rsa-3072", "ed25519", "ec-p384"])
def test_other_algorithms(algorithm, tmp_path, leaf_writer, handshake):
    ca = LocalCA.create(
        tmp_path / "ca",
        trust_domain="acme.test",
        passphrase="correct horse battery",
        algorithm=algorithm,
        kdf_rounds=1,
    )
    leaf_alg = "ec-p256" if algorithm == "rsa-3072" else algorithm  # RSA keygen is ~100x slower
    issued = ca.issue_client("svc", "prod", key_algorithm=leaf_alg)
    files = leaf_writer(f"alg-{algorithm}", issued, ca)
    server = leaf_writer(f"alg-{algorithm}-server", ca.issue_server(key_algorithm=leaf_alg), ca)
    assert openssl_verify(ca.directory / "root.crt", files).returncode == 0
    assert handshake(root=ca.directory / "root.crt", server=server, client=files).accepted
    if algorithm == "ed25519":
        # cryptography's verifier implements a web-PKI-style profile without Ed25519
        with pytest.raises(VerificationError, match="Forbidden public key algorithm"):
            crypto_verify(ca.root_cert, issued, ca.intermediate_cert)
    else:
        crypto_verify(ca.root_cert, issued, ca.intermediate_cert)
