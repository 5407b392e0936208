"""Fixtures for the token tests: real keys, real certificates, and a forger for attacks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from testca import certificate, name, sans

NOW = 1_800_000_000
"""A fixed 'now' (2027-01-15) so the tests never depend on the clock."""


@pytest.fixture(scope="session")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


@pytest.fixture(scope="session")
def ed_key():
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="session", params=["ES256", "PS256", "EdDSA"])
def any_key(request, ec_key, rsa_key, ed_key):
    """(alg, private key) for each allowed algorithm."""
    return request.param, {"ES256": ec_key, "PS256": rsa_key, "EdDSA": ed_key}[request.param]


def make_cert(subject_key, *, cn="billing", issuer_key=None, days=30):
    """A client leaf signed by issuer_key (self-signed when None)."""
    now = datetime.fromtimestamp(NOW, UTC)
    return certificate(
        name(cn),
        subject_key.public_key(),
        issuer=name("test CA"),
        signer=issuer_key or subject_key,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=days),
        extensions=[
            (x509.SubjectAlternativeName(sans(uris=[f"spiffe://acme.test/prod/{cn}"])), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        ],
    )


@pytest.fixture(scope="session")
def client_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def client_cert(client_key, ec_key):
    return make_cert(client_key, issuer_key=ec_key)


@pytest.fixture(scope="session")
def other_cert(ec_key):
    """Another certificate for the same service (e.g. after a renewal): other thumbprint."""
    return make_cert(ec.generate_private_key(ec.SECP256R1()), issuer_key=ec_key)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    """Hand-assemble a compact JWS. TEST ONLY: simulates an attacker (alg none, junk sigs)."""
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


def pem_private(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_cert(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
