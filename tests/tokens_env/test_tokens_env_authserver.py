"""The sample authorization server over real TLS: tls_client_auth, private_key_jwt, errors."""

from __future__ import annotations

import hashlib
import stat
import subprocess
from base64 import urlsafe_b64encode

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from tokens_env_support import resource, spiffe

from workbench.tokens import client_assertion
from workbench.tokens._jose import parse_unverified


def _openssl_x5t(cert_path) -> str:
    """x5t#S256 computed independently of the workbench (requirement 1)."""
    der = subprocess.run(
        ["openssl", "x509", "-in", str(cert_path), "-outform", "DER"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def _assertion(env, key_path, *, client_id="billing", jti=None) -> str:
    return client_assertion(
        client_id=client_id, audience=env.issuer, private_key=key_path.read_bytes(),
        now=env.now(), lifetime=60, jti=jti,
    )  # fmt: skip


def test_token_via_mtls_is_bound_to_the_presented_certificate(as_env, tok_pki):
    billing = tok_pki.client("billing")
    r = as_env.token_request(
        {"grant_type": "client_credentials", "resource": resource("tok-api"), "scope": "read"},
        billing,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert r.headers["Cache-Control"] == "no-store"
    header, claims = parse_unverified(body["access_token"])
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"
    assert claims["cnf"] == {"x5t#S256": _openssl_x5t(billing.cert)}
    assert claims["sub"] == spiffe("billing") and claims["client_id"] == "billing"
    assert claims["aud"] == resource("tok-api") and claims["iss"] == as_env.issuer
    assert claims["exp"] - claims["iat"] == 300 and claims["scope"] == "read"
    with httpx.Client(verify=as_env.ctx(None), timeout=10) as c:
        jwks = c.get(f"{as_env.issuer}/jwks").json()
        meta = c.get(f"{as_env.issuer}/.well-known/oauth-authorization-server").json()
    assert [k["kid"] for k in jwks["keys"]] == [header["kid"]]
    assert "d" not in jwks["keys"][0]
    assert meta["tls_client_certificate_bound_access_tokens"] is True
    assert meta["token_endpoint"] == as_env.token_url


def test_signing_key_is_private(as_env):
    key = as_env.sample.auth_dir / "as-signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


def test_private_key_jwt_with_certificate_then_replay_refused(as_env, tok_pki):
    billing = tok_pki.client("billing")
    assertion = _assertion(as_env, billing.key)
    r = as_env.token_request(as_env.assertion_form(assertion), billing)
    assert r.status_code == 200, r.text
    _, claims = parse_unverified(r.json()["access_token"])
    assert claims["cnf"]["x5t#S256"] == _openssl_x5t(billing.cert)
    again = as_env.token_request(as_env.assertion_form(assertion), billing)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client" and "replay" in again.text


def test_private_key_jwt_without_certificate_is_unbound(as_env, tok_pki):
    assertion = _assertion(as_env, tok_pki.client("billing").key)
    r = as_env.token_request(as_env.assertion_form(assertion), None)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request" and "unbound" in r.json()["error_description"]
    # The refusal did not burn the jti: the same assertion works once the cert is presented.
    ok = as_env.token_request(as_env.assertion_form(assertion), tok_pki.client("billing"))
    assert ok.status_code == 200


def test_private_key_jwt_signed_with_the_wrong_key_is_refused(as_env, tok_pki, tmp_path):
    wrong = tmp_path / "wrong.key"
    from cryptography.hazmat.primitives import serialization

    wrong.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    r = as_env.token_request(
        as_env.assertion_form(_assertion(as_env, wrong)), tok_pki.client("billing")
    )
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
    # Another service's (valid) key naming billing: refused too.
    other = _assertion(as_env, tok_pki.client("other").key)
    r = as_env.token_request(as_env.assertion_form(other), tok_pki.client("billing"))
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


def test_private_key_jwt_needs_a_registered_certificate_and_the_same_client(as_env, tok_pki):
    other = tok_pki.client("other")
    # "other" has no registered certificate: private_key_jwt is refused (mTLS still works).
    r = as_env.token_request(
        as_env.assertion_form(_assertion(as_env, other.key, client_id="other")), other
    )
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
    # billing's assertion over other's certificate: the token would be bound to someone else.
    r = as_env.token_request(
        as_env.assertion_form(_assertion(as_env, tok_pki.client("billing").key)), other
    )
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


def test_rfc6749_errors(as_env, tok_pki):
    billing = tok_pki.client("billing")
    r = as_env.token_request({"grant_type": "client_credentials"}, None)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
    r = as_env.token_request({"grant_type": "password"}, billing)
    assert (r.status_code, r.json()["error"]) == (400, "unsupported_grant_type")
    r = as_env.token_request({}, billing)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    r = as_env.token_request(
        {"grant_type": "client_credentials", "resource": "https://evil.test/x"}, billing
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_target")
    r = as_env.token_request({"grant_type": "client_credentials"}, billing)  # two APIs
    assert (r.status_code, r.json()["error"]) == (400, "invalid_target")
    r = as_env.token_request(
        {"grant_type": "client_credentials", "resource": resource("tok-api"), "client_id": "other"},
        billing,
    )
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


def test_a_foreign_ca_certificate_fails_the_handshake(as_env, tok_pki):
    foreign = tok_pki.client("billing", foreign=True)
    try:
        as_env.token_request({"grant_type": "client_credentials"}, foreign)
    except (httpx.HTTPError, OSError) as exc:
        from tokens_env_support import call_status

        assert call_status(exc) == "tls:TLSV1_ALERT_UNKNOWN_CA"
    else:
        raise AssertionError("a foreign certificate got an answer")


def test_status_reports_the_token_url_and_down_stops_the_server(tok_pki, tmp_path):
    from tokens_env_support import TokEnv

    from workbench.gateway.proc import pid_alive

    env = TokEnv("python", tmp_path, tok_pki)
    try:
        st = env.sample.status()
        assert st.token_url == f"{st.issuer}/token" and st.auth_server_pid
        assert (
            env.sample.up(
                tok_pki.server_cert, tok_pki.server_key, tok_pki.ca_bundle
            ).auth_server_pid
            == st.auth_server_pid
        )
    finally:
        stopped = env.sample.down()
    assert st.auth_server_pid in stopped and not pid_alive(st.auth_server_pid)
    assert env.sample.status().token_url is None
