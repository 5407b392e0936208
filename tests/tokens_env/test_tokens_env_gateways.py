"""Mode mtls+token on both gateways, real processes: cert AND a token bound to it."""

from __future__ import annotations

import json
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tokens_env_support import resource, spiffe

from workbench.gateway.proc import wait_until
from workbench.tokens import issue_bound_token, token_fingerprint
from workbench.tokens._jose import parse_unverified


def _challenge(resp) -> str:
    return resp.headers.get("WWW-Authenticate", "")


def test_cert_with_bound_token_is_accepted(tenv, tok_pki):
    billing = tok_pki.client("billing")
    status, resp = tenv.call("tok-api", ident=billing, token=tenv.token(billing))
    assert status == 200, resp.text
    assert resp.json()["auth"] == "cert+token" and resp.json()["caller"] == spiffe("billing")


def test_cert_without_token_is_401_with_a_bearer_challenge(tenv, tok_pki):
    status, resp = tenv.call("tok-api", ident=tok_pki.client("billing"), token=None)
    assert status == 401 and _challenge(resp).startswith('Bearer realm="workbench"')
    assert "error=" not in _challenge(resp)  # RFC 6750 3.1: no error code without a token


def test_token_without_certificate_is_refused(tenv, tok_pki):
    token = tenv.token(tok_pki.client("billing"))
    status, resp = tenv.call("tok-api", ident=None, token=token)
    assert status == 401 and 'error="invalid_token"' in _challenge(resp)


def test_token_with_another_services_certificate(tenv, tok_pki):
    token = tenv.token(tok_pki.client("billing"))
    # "other" may call tok-api, but the token is bound to billing's certificate.
    status, resp = tenv.call("tok-api", ident=tok_pki.client("other"), token=token)
    assert status == 401 and 'error="invalid_token"' in _challenge(resp)
    assert "cnf" in _challenge(resp)
    # "stranger" may not call tok-api at all.
    assert tenv.call("tok-api", ident=tok_pki.client("stranger"), token=token)[0] == 403


def _forged(tenv, tok_pki, *, key, now, audience=None, issuer=None) -> str:
    return issue_bound_token(
        signing_key=key, issuer=issuer or tenv.issuer, subject=spiffe("billing"),
        audience=audience or resource("tok-api"),
        client_cert=tok_pki.client("billing").cert.read_bytes(),
        scope="", lifetime=300, now=now,
    )  # fmt: skip


def test_expired_token_is_401(tenv, tok_pki):
    expired = _forged(tenv, tok_pki, key=tenv.signing_key_pem(), now=tenv.now() - 3600)
    status, resp = tenv.call("tok-api", ident=tok_pki.client("billing"), token=expired)
    assert status == 401 and "expired" in _challenge(resp)
    # The control: the same forging path with a current time is accepted.
    fresh = _forged(tenv, tok_pki, key=tenv.signing_key_pem(), now=tenv.now())
    assert tenv.call("tok-api", ident=tok_pki.client("billing"), token=fresh)[0] == 200


def test_token_signed_by_another_key_is_401(tenv, tok_pki):
    other_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = _forged(tenv, tok_pki, key=other_key, now=tenv.now())
    status, resp = tenv.call("tok-api", ident=tok_pki.client("billing"), token=token)
    assert status == 401 and "signature" in _challenge(resp)


def test_token_for_another_api_or_issuer_is_401(tenv, tok_pki):
    billing = tok_pki.client("billing")
    wrong_aud = tenv.token(billing, api="mtls-api")
    assert tenv.call("tok-api", ident=billing, token=wrong_aud)[0] == 401
    wrong_iss = _forged(
        tenv, tok_pki, key=tenv.signing_key_pem(), now=tenv.now(), issuer="https://evil.test"
    )
    assert tenv.call("tok-api", ident=billing, token=wrong_iss)[0] == 401


def test_plain_mtls_route_is_unchanged(tenv, tok_pki):
    status, resp = tenv.call("mtls-api", ident=tok_pki.client("billing"), token=None)
    assert status == 200 and resp.json()["auth"] == "cert"


def _wait_log(tenv, ua: str, count: int) -> list[dict]:
    log = tenv.sample.state_dir / "access.log"
    wait_until(lambda: log.read_text().count(ua) >= count, timeout=10, what="access log lines")
    return [json.loads(x) for x in log.read_text().splitlines() if ua in x]


def test_access_log_has_jti_and_fingerprint_and_no_token_anywhere(tenv, tok_pki):
    billing = tok_pki.client("billing")
    token = tenv.token(billing)
    ua = f"canary-{uuid.uuid4().hex}"
    assert tenv.call("tok-api", ident=billing, token=token, ua=ua)[0] == 200
    assert tenv.call("tok-api", ident=tok_pki.client("other"), token=token, ua=ua)[0] == 401
    ok, refused = _wait_log(tenv, ua, 2)
    _, claims = parse_unverified(token)
    assert (ok["auth"], ok["identity"]) == ("cert+token", spiffe("billing"))
    assert (ok["token_jti"], ok["token_fp"]) == (claims["jti"], token_fingerprint(token))
    assert (refused["auth"], refused["identity"], refused["token_jti"]) == (
        "none",
        spiffe("other"),
        "",
    )
    assert refused["token_fp"] == token_fingerprint(token)
    # Canary (requirement 11): no token or assertion value in any file the env wrote.
    secrets = [t.encode() for t in tenv.tokens_seen + tenv.assertions_seen]
    assert secrets
    for path in tenv.sample.state_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for s in secrets:
                assert s not in data, f"a token leaked into {path}"
                # nor its signature part alone
                assert s.rsplit(b".", 1)[1] not in data, f"a token signature leaked into {path}"
