"""Req. 2, 3, 5, 7, 12: certificate profiles parsed extension by extension, serials,
algorithm floor, CSR handling and redaction."""

from __future__ import annotations

import ipaddress
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from workbench.errors import PKIError
from workbench.pki import IssueRequest, LocalCA, generate_private_key, issue_via_csr, make_csr

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def ext(cert: x509.Certificate, cls):
    return cert.extensions.get_extension_for_class(cls)


def test_client_leaf_profile(ca: LocalCA):
    issued = ca.issue_client(
        "billing-worker",
        "prod",
        dns_names=["billing.acme.test"],
        lifetime=timedelta(days=3),
        now=NOW,
    )
    cert = issued.certificate
    assert cert.version is x509.Version.v3
    assert 0 < cert.serial_number < 2**159 and issued.serial == cert.serial_number
    assert len(cert.serial_number.to_bytes(20, "big")) <= 20
    assert int(issued.serial_hex, 16) == issued.serial
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not (ku.value.key_cert_sign or ku.value.crl_sign or ku.value.key_encipherment)
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    san = ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://acme.test/prod/billing-worker"
    ]
    assert san.get_values_for_type(x509.DNSName) == ["billing.acme.test"]
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    inter_ski = ext(ca.intermediate_cert, x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == inter_ski.digest
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert cert.issuer == ca.intermediate_cert.subject
    # lifetime from now, notBefore backdated 5 minutes; the value object agrees with the cert
    assert cert.not_valid_before_utc == NOW - timedelta(minutes=5) == issued.not_before
    assert cert.not_valid_after_utc == NOW + timedelta(days=3) == issued.not_after
    assert issued.spiffe_id == "spiffe://acme.test/prod/billing-worker"
    assert {e.oid for e in cert.extensions} == {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    }
    issued.certificate.verify_directly_issued_by(ca.intermediate_cert)


def test_default_client_lifetime_is_short(ca: LocalCA):
    issued = ca.issue_client("svc", "prod", now=NOW)
    assert issued.not_after - NOW == timedelta(days=7)


def test_server_leaf_profile(ca: LocalCA):
    cert = ca.issue_server(now=NOW).certificate
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert ext(cert, x509.BasicConstraints).value.ca is False


@pytest.mark.parametrize("which", ["root", "intermediate"])
def test_ca_profiles(ca: LocalCA, which):
    cert = ca.root_cert if which == "root" else ca.intermediate_cert
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca is True
    assert bc.value.path_length == (None if which == "root" else 0)
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    root_ski = ext(ca.root_cert, x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    cert.verify_directly_issued_by(ca.root_cert)
    assert cert.serial_number.bit_length() >= 64


def test_serials_are_unique_over_10000_issuances(ca: LocalCA):
    key = generate_private_key()
    csr = make_csr(key)
    request = IssueRequest.client("svc", "prod", "acme.test", now=NOW)
    serials = [ca.sign_csr(csr, request).serial for _ in range(10_000)]
    assert len(set(serials)) == 10_000
    assert all(0 < s < 2**159 for s in serials)
    # >= 64 random bits: the top bits vary (a counter or a timestamp would not)
    assert max(s.bit_length() for s in serials) >= 150
    assert len({s >> 120 for s in serials}) > 9_000


def test_sign_csr_takes_identity_from_request_not_csr(ca: LocalCA):
    key = generate_private_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=admin"))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier("spiffe://evil.test/x")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    issued = ca.sign_csr(csr, IssueRequest.client("svc", "prod", "acme.test", now=NOW))
    san = ext(issued.certificate, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://acme.test/prod/svc"
    ]
    assert issued.private_key is None
    assert issued.certificate.public_key() == key.public_key()


def test_issue_via_csr_works_with_any_issuer(ca: LocalCA):
    issued = issue_via_csr(ca, IssueRequest.client("svc", "dev", "acme.test", now=NOW))
    assert issued.private_key is not None
    assert issued.certificate.public_key() == issued.private_key.public_key()


def test_algorithm_floor_refuses_weak_keys(ca: LocalCA):
    weak_rsa = rsa.generate_private_key(65537, 1024)
    request = IssueRequest.client("svc", "prod", "acme.test", now=NOW)
    with pytest.raises(PKIError, match="RSA key of 1024 bits refused"):
        ca.sign_csr(make_csr(weak_rsa), request)
    weak_ec = ec.generate_private_key(ec.SECP224R1())
    with pytest.raises(PKIError, match="refused"):
        ca.sign_csr(make_csr(weak_ec), request)
    with pytest.raises(PKIError, match="unsupported key algorithm"):
        generate_private_key("rsa-1024")


def test_refuses_bad_names_and_foreign_trust_domain(ca: LocalCA):
    with pytest.raises(PKIError, match="bad service"):
        ca.issue_client("../etc", "prod")
    with pytest.raises(PKIError, match="bad environment"):
        ca.issue_client("svc", "pr od")
    with pytest.raises(PKIError, match="outside this CA's trust domain"):
        ca.issue_client("svc", "prod", "other.test")
    with pytest.raises(PKIError, match="bad DNS name"):
        ca.issue_client("svc", "prod", dns_names=["*.acme.test"])
    with pytest.raises(PKIError, match="outlive the issuing CA"):
        ca.issue_client("svc", "prod", lifetime=timedelta(days=5000))
    with pytest.raises(PKIError, match="timezone-aware"):
        ca.issue_client("svc", "prod", now=datetime(2026, 1, 1))  # noqa: DTZ001


def test_invalid_csr_signature_refused(ca: LocalCA):
    csr = make_csr(generate_private_key())
    der = bytearray(csr.public_bytes(Encoding.DER))
    der[-5] ^= 0x01  # flip a bit inside the signature
    bad = x509.load_der_x509_csr(bytes(der))
    with pytest.raises(PKIError, match="CSR signature is invalid"):
        ca.sign_csr(bad, IssueRequest.client("svc", "prod", "acme.test"))


def test_issued_certificate_redacts_and_refuses_pickle(ca: LocalCA):
    issued = ca.issue_client("svc", "prod")
    pem = issued.private_key_pem().decode()
    body = "".join(pem.splitlines()[1:-1])
    for text in (repr(issued), str(issued), repr(ca)):
        assert "PRIVATE" not in text and body[:40] not in text
    assert "<redacted>" in repr(issued)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(issued)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ca)
    record = issued.public_record()
    assert set(record) == {
        "kind",
        "serial",
        "spiffe_id",
        "not_before",
        "not_after",
        "x5t#S256",
        "sha256",
    }


def test_local_ca_is_an_issuer(ca: LocalCA):
    from workbench.pki import Issuer

    assert isinstance(ca, Issuer)
    assert ca.chain_pem.count(b"BEGIN CERTIFICATE") == 2
