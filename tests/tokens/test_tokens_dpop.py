"""RFC 9449 DPoP proofs: header, claims, ath, htu stripping, and a real signature check."""

import warnings

import pytest
from joserfc import jwk, jwt
from joserfc.errors import SecurityWarning
from joserfc.jws import JWSRegistry

from workbench.errors import TokenError
from workbench.tokens import access_token_hash, dpop_proof, jwk_thumbprint, normalize_htu
from workbench.tokens._jose import parse_unverified

NOW = 1_800_000_000

# RFC 9449 section 7.1: the example access token and its published ath (section 4.3).
RFC9449_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC9449_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


def test_ath_matches_rfc9449_example():
    assert access_token_hash(RFC9449_TOKEN) == RFC9449_ATH


def test_proof_shape_and_signature(any_key):
    alg, key = any_key
    proof = dpop_proof(
        private_key=key,
        htm="post",
        htu="https://127.0.0.1:8443/billing/charges?id=7#frag",
        access_token=RFC9449_TOKEN,
        nonce="srv-nonce-1",
        now=NOW,
    )
    header, claims = parse_unverified(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == alg
    assert "d" not in header["jwk"]
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://127.0.0.1:8443/billing/charges"
    assert claims["iat"] == NOW and claims["ath"] == RFC9449_ATH
    assert claims["nonce"] == "srv-nonce-1" and claims["jti"]
    # The proof verifies with the key in its own header, as a resource server checks it.
    # Plain joserfc here, independent of our registry: it warns on "EdDSA" (RFC 9864) and
    # caps headers at 512 bytes, less than an RSA-3072 JWK needs.
    embedded = jwk.import_key(header["jwk"], header["jwk"]["kty"])
    registry = JWSRegistry(algorithms=[alg])
    registry.max_header_length = 4096
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        decoded = jwt.decode(proof, embedded, registry=registry)
    assert decoded.claims["jti"] == claims["jti"]
    # cnf.jkt of a token bound to this key is the RFC 7638 thumbprint of that JWK.
    assert jwk_thumbprint(header["jwk"]) == jwk_thumbprint(key)


def test_no_ath_without_token_and_fresh_jti(ec_key):
    a = parse_unverified(dpop_proof(private_key=ec_key, htm="GET", htu="https://h/x", now=NOW))
    b = parse_unverified(dpop_proof(private_key=ec_key, htm="GET", htu="https://h/x", now=NOW))
    assert "ath" not in a[1] and "nonce" not in a[1]
    assert a[1]["jti"] != b[1]["jti"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://h:1/a/b?x=1", "https://h:1/a/b"),
        ("https://h/p#f", "https://h/p"),
        ("https://h", "https://h/"),
    ],
)
def test_normalize_htu(url, expected):
    assert normalize_htu(url) == expected


@pytest.mark.parametrize("url", ["/relative", "ftp://h/x", "https:///nohost"])
def test_bad_htu_refused(ec_key, url):
    with pytest.raises(TokenError, match="htu"):
        dpop_proof(private_key=ec_key, htm="GET", htu=url, now=NOW)


@pytest.mark.parametrize("htm", ["", "GET /", "G\nET"])
def test_bad_htm_refused(ec_key, htm):
    with pytest.raises(TokenError, match="htm"):
        dpop_proof(private_key=ec_key, htm=htm, htu="https://h/", now=NOW)
