"""RFC 8705 certificate-bound access tokens: issue, verify, and every reason to refuse."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tokens_support import NOW, forge, make_cert, pem_cert

from workbench.errors import TokenError
from workbench.tokens import InvalidTokenError, issue_bound_token, verify_bound_token, x5t_s256
from workbench.tokens._jose import parse_unverified, sign

ISS = "https://127.0.0.1:8443/oauth"
AUD = "https://127.0.0.1:8443/billing"


def issue(key, cert, **kw):
    args = dict(
        signing_key=key,
        issuer=ISS,
        subject="billing",
        audience=AUD,
        client_cert=cert,
        scope=["charges:read", "charges:write"],
        lifetime=300,
        now=NOW,
    )
    args.update(kw)
    return issue_bound_token(**args)


def verify(token, key, cert, **kw):
    args = dict(
        issuer_public_keys=key.public_key(),
        audience=AUD,
        presented_cert=cert,
        now=NOW + 10,
        issuer=ISS,
    )
    args.update(kw)
    return verify_bound_token(token, **args)


def test_issue_and_verify_each_alg(any_key, client_cert):
    alg, key = any_key
    token = issue(key, client_cert)
    header, _ = parse_unverified(token)
    assert header == {"typ": "at+jwt", "alg": alg}
    claims = verify(token, key, client_cert)
    assert claims["cnf"] == {"x5t#S256": x5t_s256(client_cert)}
    assert claims["scope"] == "charges:read charges:write"
    assert claims["exp"] - claims["iat"] == 300


def test_default_signing_key_gives_es256(ec_key, client_cert):
    assert parse_unverified(issue(ec_key, client_cert))[0]["alg"] == "ES256"


def test_other_certificate_is_refused(ec_key, client_cert, other_cert):
    token = issue(ec_key, client_cert)
    with pytest.raises(InvalidTokenError, match="mismatch") as info:
        verify(token, ec_key, other_cert)
    assert info.value.error == "invalid_token" and info.value.exit_status == 1


def test_renewed_certificate_same_key_is_refused(ec_key, client_key, client_cert):
    renewed = make_cert(client_key, issuer_key=ec_key, days=60)
    with pytest.raises(InvalidTokenError, match="mismatch"):
        verify(issue(ec_key, client_cert), ec_key, renewed)


def test_pem_cert_and_key_rotation_list(ec_key, rsa_key, client_cert):
    token = issue(ec_key, pem_cert(client_cert))
    keys = [rsa_key.public_key(), ec_key.public_key()]
    assert verify(token, ec_key, pem_cert(client_cert), issuer_public_keys=keys)["sub"]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"now": NOW + 301}, "expired"),
        ({"audience": "https://127.0.0.1:8443/payroll"}, "aud"),
        ({"issuer": "https://evil"}, "iss"),
    ],
)
def test_claim_failures(ec_key, client_cert, kw, match):
    with pytest.raises(InvalidTokenError, match=match):
        verify(issue(ec_key, client_cert), ec_key, client_cert, **kw)


def test_untrusted_signer_refused(ec_key, client_cert):
    stranger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidTokenError, match="bad signature"):
        verify(issue(stranger, client_cert), ec_key, client_cert)


def test_bearer_token_refused(ec_key, client_cert):
    claims = {"iss": ISS, "sub": "billing", "aud": AUD, "iat": NOW, "exp": NOW + 60}
    token = sign({"typ": "at+jwt"}, claims, ec_key)
    with pytest.raises(InvalidTokenError, match="not certificate-bound"):
        verify(token, ec_key, client_cert)


@pytest.mark.parametrize("bad", ["abc", x5t_s256.__name__ * 4, "A" * 43 + "=", None])
def test_malformed_cnf_refused(ec_key, client_cert, bad):
    claims = {"iss": ISS, "aud": AUD, "iat": NOW, "exp": NOW + 60, "cnf": {"x5t#S256": bad}}
    token = sign({"typ": "at+jwt"}, claims, ec_key)
    with pytest.raises(InvalidTokenError, match="malformed|not certificate-bound"):
        verify(token, ec_key, client_cert)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256"])
def test_forged_algorithms_refused(ec_key, client_cert, alg):
    claims = {
        "iss": ISS,
        "aud": AUD,
        "iat": NOW,
        "exp": NOW + 60,
        "cnf": {"x5t#S256": x5t_s256(client_cert)},
    }
    token = forge({"alg": alg, "typ": "at+jwt"}, claims, b"" if alg == "none" else b"x" * 32)
    with pytest.raises(InvalidTokenError, match=f"algorithm '{alg}' refused"):
        verify(token, ec_key, client_cert)


def test_weak_issuer_key_refused(client_cert):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(TokenError, match="RSA-1024"):
        issue(weak, client_cert)
    with pytest.raises(TokenError, match="RSA-1024"):
        verify("a.b.c", weak, client_cert)


def test_naive_datetime_refused(ec_key, client_cert):
    from datetime import datetime

    with pytest.raises(TokenError, match="timezone-aware"):
        issue(ec_key, client_cert, now=datetime(2027, 1, 1))
