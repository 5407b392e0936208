"""RFC 7523 client assertions: round trips, algorithm floor, replay and claim checks."""

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa
from tokens_support import NOW, b64, forge, pem_private

from workbench.errors import TokenError
from workbench.tokens import (
    ASSERTION_TYPE,
    InvalidClientError,
    assertion_form,
    client_assertion,
    verify_client_assertion,
)
from workbench.tokens._jose import parse_unverified

AS = "https://127.0.0.1:8443/oauth"


def make(key, **kw):
    args = {"client_id": "billing", "audience": AS, "private_key": key, "now": NOW}
    args.update(kw)
    return client_assertion(**args)


def check(token, key, seen=None, **kw):
    args = {"client_public_key": key.public_key(), "audience": AS, "now": NOW + 5}
    args.update(kw)
    return verify_client_assertion(token, seen_jtis=set() if seen is None else seen, **args)


def test_round_trip_each_allowed_alg(any_key):
    alg, key = any_key
    token = make(key)
    header, claims = parse_unverified(token)
    assert header["alg"] == alg
    assert claims["iss"] == claims["sub"] == "billing"
    assert claims["aud"] == AS and isinstance(claims["aud"], str)
    assert claims["exp"] - claims["iat"] == 60
    assert len(claims["jti"]) >= 16
    assert check(token, key, client_id="billing")["jti"] == claims["jti"]


def test_pem_key_accepted_and_jtis_unique(ec_key):
    a, b = make(pem_private(ec_key)), make(ec_key)
    assert parse_unverified(a)[1]["jti"] != parse_unverified(b)[1]["jti"]


def test_form_fields(ec_key):
    token = make(ec_key)
    form = assertion_form(token)
    assert form == {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}
    assert ASSERTION_TYPE == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.mark.parametrize(
    "weak",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
        lambda: ec.generate_private_key(ec.SECP192R1()),
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: ed448.Ed448PrivateKey.generate(),
    ],
    ids=["rsa-1024", "p-192", "p-384", "ed448"],
)
def test_algorithm_floor(weak):
    key = weak()  # the cryptography wheel (uv.lock) bundles its OpenSSL: every one generates
    with pytest.raises(TokenError, match="refused"):
        make(key)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "PS256"])
def test_explicit_alg_must_fit_the_key(ec_key, alg):
    with pytest.raises(TokenError, match="refused|does not fit"):
        make(ec_key, alg=alg)


def test_replay_refused_with_set_and_mapping(ec_key):
    seen: set[str] = set()
    token = make(ec_key)
    check(token, ec_key, seen)
    with pytest.raises(InvalidClientError, match="replay"):
        check(token, ec_key, seen)
    cache: dict[str, int] = {"old": NOW - 1000}
    check(token, ec_key, cache)
    assert "old" not in cache  # expired entries are pruned
    with pytest.raises(InvalidClientError, match="replay"):
        check(token, ec_key, cache)


def test_failed_assertion_does_not_burn_the_jti(ec_key):
    seen: set[str] = set()
    token = make(ec_key)
    with pytest.raises(InvalidClientError):
        check(token, ec_key, seen, audience="https://elsewhere")
    assert not seen
    check(token, ec_key, seen)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"audience": "https://other/as"}, "aud"),
        ({"now": NOW + 61}, "expired"),
        ({"client_id": "payroll"}, "another client"),
    ],
)
def test_claim_checks(ec_key, kw, match):
    with pytest.raises(InvalidClientError, match=match) as info:
        check(make(ec_key), ec_key, **kw)
    assert info.value.exit_status == 1 and info.value.error == "invalid_client"


def test_wrong_key_is_a_bad_signature(ec_key):
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidClientError, match="bad signature"):
        check(make(other), ec_key)


def test_lifetime_cap(ec_key):
    with pytest.raises(TokenError, match="too long"):
        make(ec_key, lifetime=3600)


def test_alg_none_assertion_refused(ec_key):
    claims = {"iss": "billing", "sub": "billing", "aud": AS, "iat": NOW, "exp": NOW + 60}
    token = forge({"alg": "none"}, {**claims, "jti": "x"})
    with pytest.raises(InvalidClientError, match="algorithm 'none' refused"):
        check(token, ec_key)


def test_hs256_key_confusion_refused(ec_key):
    # The classic attack: HMAC-sign with the server's *public* key as the shared secret.
    public_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"iss": "billing", "sub": "billing", "aud": AS, "iat": NOW, "exp": NOW + 60}
    # joserfc refuses to do this, so the test plays the attacker by hand.
    unsigned = forge({"alg": "HS256", "typ": "JWT"}, {**claims, "jti": "y"}).rsplit(".", 1)[0]
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    token = f"{unsigned}.{b64(mac)}"
    with pytest.raises(InvalidClientError, match="HS256"):
        check(token, ec_key)
