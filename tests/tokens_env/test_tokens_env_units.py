"""Pure parts of mode mtls+token: decision table, spec rules, the shared token check."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tokens_env_support import TokEnv, ensure_gateway_available, gateway_param, spiffe

from workbench.errors import GatewayError
from workbench.gateway import GatewaySpec, Route
from workbench.gateway.authz import PeerCert, decide
from workbench.gateway.nginx import render_nginx
from workbench.gateway.proc import stop_process
from workbench.gateway.tokenauth import (
    TokenCheck,
    bearer_token,
    cert_from_escaped_pem,
    check_bound_token,
    load_jwks,
    www_authenticate,
)
from workbench.tokens import issue_bound_token, public_jwk

SVC = "spiffe://acme.test/prod/svc"
ROUTE = Route(
    api_id="a", path_prefix="/a", mode="mtls+token", allowed_identities=(SVC,),
    token_audience="https://127.0.0.1:8443/a",
)  # fmt: skip
GOOD = PeerCert((SVC,), "svc")
OTHER = PeerCert(("spiffe://acme.test/prod/x",), "x")
OK = TokenCheck(True, "", "", "jti1", "fp0000000001", SVC)
BAD = TokenCheck(False, "invalid_token", "bad signature", "", "fp0000000002")


@pytest.mark.parametrize(
    ("peer", "token", "expected"),
    [
        (GOOD, OK, (0, "cert+token", SVC, "jti1", "fp0000000001")),
        (GOOD, BAD, (401, "none", SVC, "", "fp0000000002")),
        (GOOD, None, (401, "none", SVC, "", "")),
        (OTHER, OK, (403, "none", "cn:x", "", "fp0000000001")),
        (None, BAD, (401, "none", "", "", "fp0000000002")),
    ],
)
def test_token_decision_table(peer, token, expected):
    d = decide(ROUTE, peer=peer, presented_key=None, keys={}, token=token)
    assert (d.status, d.auth, d.identity, d.token_jti, d.token_fp) == expected
    assert bool(d.challenge) == (d.status == 401)


def test_challenges_follow_rfc6750():
    assert www_authenticate(None) == 'Bearer realm="workbench"'
    assert www_authenticate(TokenCheck(False, "missing", "x")) == 'Bearer realm="workbench"'
    c = www_authenticate(TokenCheck(False, "invalid_token", 'evil"\r\nSet-Cookie: x'))
    assert c.startswith('Bearer realm="workbench", error="invalid_token"')
    assert "\r" not in c and c.count('"') == 6


def test_bearer_parsing():
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer abc") == "abc"
    assert bearer_token("Basic dXNlcg==") is None
    assert bearer_token("Bearer a b") is None
    assert check_bound_token("Basic x", None, audience="a", keys=[], issuer=None, now=0).error == (
        "invalid_request"
    )


def test_check_bound_token_against_a_certificate(tok_pki):
    key = ec.generate_private_key(ec.SECP256R1())
    billing = tok_pki.client("billing").cert.read_bytes()
    other = tok_pki.client("other").cert.read_bytes()
    now = time.time()
    token = issue_bound_token(
        signing_key=key, issuer="https://as", subject=spiffe("billing"), audience="https://api",
        client_cert=billing, scope="", lifetime=300, now=now,
    )  # fmt: skip
    kw = dict(audience="https://api", keys=[public_jwk(key)], issuer="https://as", now=now)
    good = check_bound_token(f"Bearer {token}", billing, **kw)
    assert good.ok and good.subject == spiffe("billing") and good.jti
    escaped = cert_from_escaped_pem(
        quote(billing.decode().split("-----END")[0] + "-----END CERTIFICATE-----\n")
    )
    assert check_bound_token(f"Bearer {token}", escaped, **kw).ok
    bad = check_bound_token(f"Bearer {token}", other, **kw)
    assert (bad.ok, bad.error) == (False, "invalid_token") and token not in bad.reason
    assert not check_bound_token(f"Bearer {token}", billing, **{**kw, "now": now + 301}).ok
    assert cert_from_escaped_pem("not-a-cert") is None


def test_load_jwks_refuses_private_keys_and_garbage(tmp_path):
    import json

    key = ec.generate_private_key(ec.SECP256R1())
    p = tmp_path / "jwks.json"
    p.write_text(json.dumps({"keys": [public_jwk(key)]}))
    assert load_jwks(p)[0]["kty"] == "EC"
    p.write_text(json.dumps({"keys": [{**public_jwk(key), "d": "secret"}]}))
    with pytest.raises(GatewayError) as exc:
        load_jwks(p)
    assert "secret" not in str(exc.value)
    p.write_text("[]")
    with pytest.raises(GatewayError):
        load_jwks(p)


def _spec(tmp_path: Path, **token) -> GatewaySpec:
    return GatewaySpec(
        port=9443, server_cert="/s.crt", server_key="/s.key", client_ca_bundle="/ca.pem",
        routes=(Route(api_id="a", path_prefix="/a", mode="mtls", allowed_identities=(SVC,),
                      token_audience="https://127.0.0.1:8443/a"),),
        backend_url="http://127.0.0.1:9000", access_log="/a.log", state_dir=str(tmp_path),
        **token,
    )  # fmt: skip


TOKEN_CFG = dict(
    token_issuer="https://127.0.0.1:9444", token_jwks="/j.json",
    token_introspect_url="https://127.0.0.1:9444/introspect-bound", token_server_ca="/ca.pem",
)  # fmt: skip


def test_spec_rules_for_the_token_mode(tmp_path):
    with pytest.raises(GatewayError, match="authorization server"):
        _spec(tmp_path).with_mode("a", "mtls+token")
    with pytest.raises(GatewayError, match="token_audience"):
        Route(api_id="a", path_prefix="/a", mode="mtls+token")
    with pytest.raises(GatewayError, match="loopback"):
        _spec(tmp_path, **{**TOKEN_CFG, "token_introspect_url": "https://evil.test/x"})
    with pytest.raises(GatewayError):
        Route(api_id="a", path_prefix="/a", mode="key", token_audience='x" ; evil')
    spec = _spec(tmp_path, **TOKEN_CFG).with_mode("a", "mtls+token")
    assert GatewaySpec.from_json(spec.to_json()) == spec and spec.uses_tokens


def test_nginx_renders_auth_request_for_token_routes_only(tmp_path):
    spec = _spec(tmp_path, **TOKEN_CFG)
    assert "auth_request /" not in render_nginx(spec, prefix=tmp_path).content.decode()
    text = render_nginx(spec.with_mode("a", "mtls+token"), prefix=tmp_path).content.decode()
    assert "auth_request /__wb_token_1;" in text and "internal;" in text
    assert "proxy_ssl_verify on;" in text
    assert 'X-Workbench-Audience "https://127.0.0.1:8443/a"' in text


@pytest.mark.parametrize("kind", [gateway_param("nginx")])
def test_nginx_fails_closed_when_the_authorization_server_is_down(kind, tok_pki, tmp_path):
    ensure_gateway_available(kind)
    env = TokEnv(kind, tmp_path, tok_pki)
    try:
        billing = tok_pki.client("billing")
        token = env.token(billing)
        assert env.call("tok-api", ident=billing, token=token)[0] == 200
        stop_process(env.sample.auth_pid_path, env.sample.auth_marker)
        status, _ = env.call("tok-api", ident=billing, token=token)
        assert status == 500  # never 200 without the token check
    finally:
        env.sample.down()
