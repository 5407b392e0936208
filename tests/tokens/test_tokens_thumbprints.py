"""x5t#S256 against openssl (requirement 1) and jkt against the RFC 7638 example."""

import base64
import hashlib
import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from tokens_support import make_cert, pem_cert

from workbench.errors import TokenError
from workbench.tokens import jwk_thumbprint, public_jwk, x5t_s256

# RFC 7638 section 3.1: the example RSA key and its published thumbprint.
RFC7638_JWK = {
    "kty": "RSA",
    "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJ"
        "ECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD"
        "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4v"
        "MQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ),
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def openssl_x5t(pem: bytes) -> str:
    """The requirement-1 pipeline, run by the real openssl binary."""
    proc = subprocess.run(
        "openssl x509 -outform DER | openssl dgst -sha256 -binary | base64",
        shell=True,
        input=pem,
        capture_output=True,
        check=True,
    )
    std = proc.stdout.decode().strip()
    return std.replace("+", "-").replace("/", "_").rstrip("=")


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed"])
def test_x5t_s256_matches_openssl(kind, ec_key, rsa_key, ed_key):
    subject = {"ec": ec_key, "rsa": rsa_key, "ed": ed_key}[kind]
    cert = make_cert(subject, issuer_key=ec_key)
    pem = pem_cert(cert)
    expected = openssl_x5t(pem)
    assert len(expected) == 43
    # Every accepted input form gives the same value.
    der = cert.public_bytes(serialization.Encoding.DER)
    for form in (cert, pem, pem.decode(), der):
        assert x5t_s256(form) == expected
    assert "=" not in expected


def test_x5t_differs_per_certificate(client_cert, other_cert):
    assert x5t_s256(client_cert) != x5t_s256(other_cert)


def test_x5t_refuses_non_certificates():
    with pytest.raises(TokenError, match="not a readable X.509 certificate"):
        x5t_s256(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def test_jwk_thumbprint_rfc7638_example():
    assert jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT
    # Only the required members count: kid/alg must not change it.
    bare = {k: RFC7638_JWK[k] for k in ("kty", "n", "e")}
    assert jwk_thumbprint(bare) == RFC7638_THUMBPRINT


def test_jwk_thumbprint_of_ec_key_by_hand(client_key):
    jwk = public_jwk(client_key)
    assert "d" not in jwk and jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    by_hand = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    expected = by_hand.rstrip(b"=").decode()
    assert jwk_thumbprint(client_key) == expected  # private key: public part used
    assert jwk_thumbprint(client_key.public_key()) == expected
    assert jwk_thumbprint(jwk) == expected


def test_public_jwk_never_has_private_members(rsa_key, ed_key):
    for key in (rsa_key, ed_key):
        jwk = public_jwk(key)
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
