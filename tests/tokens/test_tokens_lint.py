"""lint_token: every finding the brief lists, and the token never quoted in a message."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tokens_support import NOW, forge

from workbench.errors import TokenError
from workbench.tokens import issue_bound_token, lint_token, x5t_s256
from workbench.tokens._jose import sign

ISS = "https://as.acme.test"


def claims(**over):
    base = {"iss": ISS, "sub": "billing", "aud": "api", "iat": NOW, "exp": NOW + 300, "jti": "j1"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def codes(result):
    return {f.code for f in result.findings}


def good(ec_key, client_cert):
    return issue_bound_token(
        signing_key=ec_key,
        issuer=ISS,
        subject="billing",
        audience="api",
        client_cert=client_cert,
        scope="a",
        lifetime=300,
        now=NOW,
    )


def test_good_bound_token_is_clean(ec_key, client_cert):
    token = good(ec_key, client_cert)
    result = lint_token(token, cert=client_cert, key=ec_key.public_key(), now=NOW + 1)
    assert result.ok and result.findings == ()
    assert result.bound_to == "x5t#S256" and result.signature_checked
    assert result.jti and len(result.fingerprint) == 12


@pytest.mark.parametrize(
    ("alg", "code"), [("none", "alg-none"), ("HS256", "alg-hmac"), ("RS256", "alg-not-allowed")]
)
def test_refused_algorithms(alg, code, client_cert):
    token = forge({"alg": alg}, claims(cnf={"x5t#S256": x5t_s256(client_cert)}), b"sig")
    result = lint_token(token, now=NOW)
    assert code in codes(result) and not result.ok


def test_missing_cnf_is_not_sender_constrained(ec_key):
    result = lint_token(sign({}, claims(), ec_key), now=NOW)
    assert codes(result) == {"not-sender-constrained"}
    assert result.bound_to is None and not result.ok


def test_jkt_binding_recognised(ec_key):
    result = lint_token(sign({}, claims(cnf={"jkt": "A" * 43}), ec_key), now=NOW)
    assert result.ok and result.bound_to == "jkt"


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("A" * 42 + "=", "padding"),
        ("A" * 42 + "+", "standard base64"),
        ("A" * 40, "40 characters"),
        (12345, "not a string"),
    ],
)
def test_malformed_x5t(ec_key, value, detail):
    result = lint_token(sign({}, claims(cnf={"x5t#S256": value}), ec_key), now=NOW)
    (finding,) = [f for f in result.findings if f.code == "x5t-malformed"]
    assert detail in finding.message and finding.severity.value == "high"


def test_certificate_mismatch(ec_key, client_cert, other_cert):
    result = lint_token(good(ec_key, client_cert), cert=other_cert, now=NOW)
    assert codes(result) == {"cert-mismatch"}


def test_times_and_lifetime(ec_key):
    expired = lint_token(sign({}, claims(cnf={"jkt": "A" * 43}), ec_key), now=NOW + 301)
    assert codes(expired) == {"expired"}
    long = sign({}, claims(exp=NOW + 7200, cnf={"jkt": "A" * 43}), ec_key)
    assert codes(lint_token(long, now=NOW)) == {"lifetime-too-long"}
    assert lint_token(long, now=NOW, max_lifetime=7200).ok


def test_missing_claims(ec_key):
    token = sign({}, {"iss": ISS, "cnf": {"jkt": "A" * 43}}, ec_key)
    assert codes(lint_token(token, now=NOW)) == {
        "missing-exp",
        "missing-iat",
        "missing-aud",
        "missing-jti",
    }


def test_bad_signature_with_key(ec_key, client_cert):
    stranger = ec.generate_private_key(ec.SECP256R1())
    result = lint_token(good(ec_key, client_cert), key=stranger.public_key(), now=NOW)
    assert "bad-signature" in codes(result) and not result.signature_checked


@pytest.mark.parametrize(
    ("token", "match"),
    [
        ("CANARY-not-a-jwt", "expected 3 dot-separated parts, got 1"),
        ("a.b.c.d.e", "encrypted"),
        ("CANARY!!.CANARY.x", "base64url"),
        (forge({"alg": "ES256"}, ["CANARY"]), "JSON objects"),
    ],
)
def test_not_a_jwt_raises_without_quoting_it(token, match):
    with pytest.raises(TokenError, match=match) as info:
        lint_token(token, now=NOW)
    assert "CANARY" not in str(info.value) and "\n" not in str(info.value)


def test_findings_never_contain_the_token(ec_key):
    canary_sig = b"CANARY-SIGNATURE-SECRET"
    token = forge({"alg": "HS256"}, {"cnf": {"x5t#S256": "bad="}}, canary_sig)
    result = lint_token(token, now=NOW)
    # The forged token has several problems, and each finding is checked below.
    assert {"alg-hmac", "x5t-malformed"} <= {f.code for f in result.findings}
    for finding in result.findings:
        text = str(finding)
        assert token not in text and token.split(".")[2] not in text
