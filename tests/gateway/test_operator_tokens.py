"""Mode mtls+token on the operator's own HAProxy, against the COMPANY's authorization server
(tests/gateway/company_as.py: its own ES256 key and issuer, not the lab's).

Real HAProxy on 127.0.0.1 (master-worker, the workbench's owned file as one more -f), real
TLS, real tokens signed with joserfc, client certificates from the workspace CA. HAProxy
checks the token itself (jwt_verify & co); these tests probe it from outside."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from company_as import ISSUER, CompanyAS
from cryptography.hazmat.primitives.asymmetric import ec
from operator_support import ORDERS_KEY, operator_workspace
from testca import TestPKI
from testkit import free_port

from workbench.cli import main

CHALLENGE = 'Bearer realm="workbench"'


def _as_block(company: CompanyAS | None, *, endpoint: bool = True, ca: Path | None = None):
    if company is None:
        return ""
    lines = [
        "    authorization_server:",
        f'      issuer: "{ISSUER}"',
        f"      signing_keys: [{company.public_key}]",
    ]
    if endpoint:
        lines.append(f"      token_endpoint: {company.token_endpoint}")
    if ca:
        lines.append(f"      ca: {ca}")
    return "\n".join(lines) + "\n"


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--json"])
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else None), err.getvalue()


class Env:
    """A workspace whose orders-api is cut over and then put in mtls+token on HAProxy."""

    def __init__(self, op, ws: Path, port: int, company: CompanyAS) -> None:
        self.op, self.ws, self.port, self.company = op, ws, port, company
        self.w = ["--workspace", str(ws)]
        self.ca = ws / "ca" / "chain.pem"
        self.url = f"https://127.0.0.1:{port}/orders-api"

    def certs(self) -> dict[str, tuple[Path, Path]]:
        from workbench.migration import open_campaign

        with open_campaign(self.ws) as campaign:
            return {
                c.service: (self.ws / c.chain_path, self.ws / c.key_path)
                for c in campaign.workspace.active_certificates(kind="client")
            }

    def get(self, path="/health", *, cert=None, token=None, auth=None, key=None):
        """(status, WWW-Authenticate, body) of one GET on a fresh TLS connection."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if cert:
            ctx.load_cert_chain(*map(str, cert))
        headers = {"User-Agent": "test/1"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if auth is not None:
            headers["Authorization"] = auth
        if key is not None:
            headers["X-API-Key"] = key
        req = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                return resp.status, resp.headers.get("WWW-Authenticate"), json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("WWW-Authenticate"), None


@contextlib.contextmanager
def token_workspace(root: Path, *, endpoint: bool = True):
    """orders-api behind the operator's HAProxy, cut over (PASS), then set to mtls+token."""
    pki = TestPKI(root / "as-pki")
    company = CompanyAS(root / "company-as", free_port())
    as_leaf = pki.inter.leaf("auth", dns=["localhost"], ips=["127.0.0.1"], server=True)
    as_cert, as_key = root / "as.crt", root / "as.key"
    as_leaf.write(as_cert, as_key, chain=True)
    block = _as_block(company, endpoint=endpoint, ca=pki.server_ca)
    with (
        pytest.MonkeyPatch.context() as mp,
        operator_workspace("haproxy", root, mp, extra=block) as (op, ws, port, _inv),
    ):
        company.start(server_cert=as_cert, server_key=as_key, client_ca=ws / "ca" / "chain.pem")
        try:
            env = Env(op, ws, port, company)
            for argv in (
                ["issue", "--step", "orders-key"],
                ["issue", "--step", "billing-key"],
                ["gateway", "set-mode", "dual", "--step", "orders-key"],
                ["cutover", "--step", "orders-key", "--force"],
            ):
                code, out, err = _run([*argv, *env.w])
                assert code == 0, (argv, out, err)
            code, out, err = _run(
                ["gateway", "set-mode", "mtls+token", "--step", "orders-key", "--force", *env.w]
            )
            assert code == 0 and out["to_mode"] == "mtls+token", (out, err)
            yield env
        finally:
            company.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with token_workspace(tmp_path_factory.mktemp("optoken")) as e:
        yield e


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    """A hand-made JWS (the attacker's): alg none, HMAC with the public key bytes, ..."""
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)]
    )


def test_a_token_bound_to_this_certificate_is_served(env):
    certs = env.certs()
    token = env.company.mint(certs["shop"][0].read_bytes(), audience=env.url)
    status, _, body = env.get(cert=certs["shop"], token=token)
    assert status == 200 and body["identity"] == "spiffe://acme.test/prod/shop", body
    assert body["auth"] == "cert+token"


def _claims_token(env, cert: bytes, **changes) -> str:
    """A token with the claims the company's server writes, some changed (None = left out),
    signed ES256 by the company's key: for shapes issue_bound_token does not make."""
    from workbench.tokens._jose import sign
    from workbench.tokens.thumbprints import x5t_s256

    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "spiffe://acme.test/prod/shop", "aud": env.url,
              "iat": now, "nbf": now, "exp": now + 300, "jti": "jti-claims-test",
              "cnf": {"x5t#S256": x5t_s256(cert)}}  # fmt: skip
    claims.update(changes)
    return sign(
        {"typ": "at+jwt"}, {k: v for k, v in claims.items() if v is not None}, env.company.key
    )


def _hs256_with_the_public_key(env, cert: bytes) -> str:
    """Algorithm confusion: HMAC-SHA256 keyed with the server's public key bytes."""
    import hashlib
    import hmac

    good = env.company.mint(cert, audience=env.url)
    _, payload, _ = good.split(".")
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
    mac = hmac.new(
        env.company.public_key.read_bytes(), f"{header}.{payload}".encode(), hashlib.sha256
    )
    return f"{header}.{payload}.{_b64(mac.digest())}"


def _header_alg_lies(env, cert: bytes) -> str:
    """A real ES256 signature by the company's key under a header that says ES384."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    _, payload, _ = env.company.mint(cert, audience=env.url).split(".")
    header = _b64(json.dumps({"alg": "ES384", "typ": "at+jwt"}).encode())
    der = env.company.key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{header}.{payload}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _alg_none(env, cert: bytes) -> str:
    _, payload, _ = env.company.mint(cert, audience=env.url).split(".")
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'}).encode())}.{payload}."


def _mint(**kw):
    return lambda e, c, o: e.company.mint(c, audience=e.url, **kw)


def _claims(**changes):
    return lambda e, c, o: _claims_token(e, c, **changes)


def _later(seconds: int) -> int:
    return int(time.time()) + seconds


OTHER_API = "https://127.0.0.1:1/billing/v2"
TOKENS = {
    # name: (make(env, shop's cert PEM, another cert PEM), HAProxy's status, why in challenge)
    "bound-to-this-cert": (_mint(), 200, None),
    "aud-list-with-this-api": (
        lambda e, c, o: _claims_token(e, c, aud=[OTHER_API, e.url]), 200, None),
    "bound-to-another-cert": (
        lambda e, c, o: e.company.mint(o, audience=e.url), 401, "bound to another certificate"),
    "expired": (lambda e, c, o: e.company.mint(c, audience=e.url, now=time.time() - 400),
                401, "expired"),
    "no-exp": (_claims(exp=None), 401, "expired"),
    "not-yet-valid": (lambda e, c, o: e.company.mint(c, audience=e.url, now=time.time() + 600),
                      401, "not yet valid"),
    "nbf-in-the-future": (lambda e, c, o: _claims_token(e, c, nbf=_later(600)),
                          401, "not yet valid"),
    "issued-in-the-future": (lambda e, c, o: _claims_token(e, c, iat=_later(600)),
                             401, "future"),
    "wrong-iss": (_mint(issuer="https://auth.evil.test"), 401, "wrong issuer"),
    "wrong-aud": (lambda e, c, o: e.company.mint(c, audience=OTHER_API), 401, "wrong audience"),
    "aud-list-without-this-api": (_claims(aud=[OTHER_API]), 401, "wrong audience"),
    "wrong-signing-key": (_mint(key=ec.generate_private_key(ec.SECP256R1())),
                          401, "bad signature"),
    "alg-none": (lambda e, c, o: _alg_none(e, c), 401, "algorithm refused"),
    "hs256-with-the-public-key": (lambda e, c, o: _hs256_with_the_public_key(e, c),
                                  401, "algorithm refused"),
    "header-alg-is-not-es256": (lambda e, c, o: _header_alg_lies(e, c),
                                401, "algorithm refused"),
    "not-certificate-bound": (_claims(cnf=None), 401, "not certificate-bound"),
    "malformed-cnf": (_claims(cnf={"x5t#S256": "short"}), 401, "not certificate-bound"),
    "not-a-jwt": (lambda e, c, o: ORDERS_KEY, 401, "algorithm refused"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(TOKENS))
def test_haproxy_enforces_what_verify_bound_token_enforces(env, case):
    """Each token over shop's certificate: HAProxy's answer, and verify_bound_token's verdict
    on the same token, certificate and clock, agree; a refusal carries the RFC 6750 challenge
    naming why."""
    from workbench.errors import TokenError
    from workbench.tokens import verify_bound_token

    make, status, reason = TOKENS[case]
    certs = env.certs()
    shop_pem = certs["shop"][0].read_bytes()
    other = env.certs()["ledger"][0].read_bytes()
    token = make(env, shop_pem, other)
    got, challenge, body = env.get(cert=certs["shop"], token=token)
    try:
        verify_bound_token(token, issuer_public_keys=env.company.public_key.read_bytes(),
                           audience=env.url, presented_cert=shop_pem, now=time.time(),
                           issuer=ISSUER)  # fmt: skip
        python_accepts = True
    except TokenError:
        python_accepts = False
    assert got == status, (case, got, challenge)
    assert python_accepts == (status == 200), case
    if status == 200:
        assert body["auth"] == "cert+token" and body["identity"].endswith("/shop"), body
    else:
        prefix = 'Bearer realm="workbench", error="invalid_token", error_description="'
        assert challenge.startswith(prefix) and reason in challenge, challenge


def test_no_token_gets_the_bare_challenge(env):
    certs = env.certs()
    status, challenge, _ = env.get(cert=certs["shop"])
    assert (status, challenge) == (401, CHALLENGE)
    status, challenge, _ = env.get(cert=certs["shop"], auth="Basic c2hvcDpzZWNyZXQ=")
    assert status == 401 and 'error="invalid_request"' in challenge, challenge


def test_the_old_static_key_is_refused_alone_and_beside_the_certificate(env):
    certs = env.certs()
    for kwargs in ({}, {"cert": certs["shop"]}):
        status, challenge, _ = env.get(key=ORDERS_KEY, **kwargs)
        assert (status, challenge) == (401, CHALLENGE), kwargs
    status, _, _ = env.get(token=ORDERS_KEY, cert=certs["shop"])  # the key as a Bearer token
    assert status == 401


def test_a_valid_bound_token_without_its_certificate_is_refused(env):
    certs = env.certs()
    token = env.company.mint(certs["shop"][0].read_bytes(), audience=env.url)
    status, challenge, _ = env.get(token=token)
    assert status == 401 and "no client certificate" in challenge, challenge


def test_a_certificate_the_api_does_not_allow_is_forbidden_even_with_its_own_token(env):
    certs = env.certs()
    token = env.company.mint(certs["ledger"][0].read_bytes(), audience=env.url)
    status, challenge, _ = env.get(cert=certs["ledger"], token=token)
    assert (status, challenge) == (403, None)


TOKEN_PROBES = {"cert-without-token", "token-without-cert", "token-with-other-cert"}


def test_the_verifier_proves_mtls_token_with_tokens_from_the_company_server(env):
    """verify --step gets each consumer's bound token from the company's token endpoint
    (tls_client_auth with the workspace certificate) and proves the mode: PASS."""
    env.company.issued.clear()
    code, out, err = _run(["verify", "--step", "orders-key", *env.w])
    probes = {p["name"]: p for p in out["probes"]}
    assert code == 0 and out["verdict"] == "PASS" and out["state"] == "verified", (out, err)
    assert set(probes) >= TOKEN_PROBES and all(p["outcome"] == "pass" for p in probes.values())
    assert "bound token" in probes["positive-control"]["evidence"]["identity"]
    assert env.company.issued == ["shop"]  # the company's server issued the verifier's token
    # The gateway's access log names the accepted token by fingerprint and jti, never by value.
    text = env.op.access_log.read_text()
    lines = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
    served = [ln for ln in lines if ln["auth"] == "cert+token"]
    assert served and all(len(ln["token_fp"]) == 12 and ln["token_jti"] for ln in served)


def test_without_a_token_endpoint_the_verifier_says_what_it_cannot_prove(tmp_path):
    """The gateway serves mtls+token, but the verifier has no way to get a bound token: no
    PASS, exit 2, and the message says what is unproved and what to add."""
    with token_workspace(tmp_path, endpoint=False) as env:
        certs = env.certs()
        token = env.company.mint(certs["shop"][0].read_bytes(), audience=env.url)
        assert env.get(cert=certs["shop"], token=token)[0] == 200  # the mode itself works
        code, out, err = _run(["verify", "--step", "orders-key", *env.w])
        assert code == 2 and out is None, (code, out)
        error = json.loads(err)["error"]
        assert "no authorization_server.token_endpoint" in error, error
        assert "cannot prove mtls+token" in error and "add token_endpoint" in error, error
        code, status, _ = _run(["status", *env.w])
        step = next(s for s in status["steps"] if s["key"] == "orders-key")
        assert step["state"] != "verified", step


def test_a_haproxy_that_stops_requiring_the_token_fails_verification(env):
    """The workbench believes mtls+token, but the running HAProxy serves plain mtls (a hand
    edit, a stale file): the verifier's bound-token probes catch it, no PASS."""
    from workbench.gateway.operator import _Route
    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import gateway_for

    with open_campaign(env.ws) as campaign:
        handle = gateway_for(campaign, "orders-api")
        believed = handle._state()
        state = handle.state_path.read_bytes()
        weak = dict(believed, **{"orders-api": _Route("orders-api", "mtls", ())})
        handle.apply_routes(weak)
        handle.state_path.write_bytes(state)  # the workbench's record still says mtls+token
        try:
            assert env.get(cert=env.certs()["shop"])[0] == 200  # the certificate alone passes
            code, out, err = _run(["verify", "--step", "orders-key", *env.w])
            probes = {p["name"]: p for p in out["probes"]}
            assert code == 1 and out["verdict"] == "FAIL", (out, err)
            assert probes["cert-without-token"]["outcome"] == "fail"
        finally:
            handle.apply_routes(believed)
    assert env.get(cert=env.certs()["shop"])[0] == 401
