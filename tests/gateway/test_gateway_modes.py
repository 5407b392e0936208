"""Both gateways, every mode, real TLS clients against a real backend (one env per gateway)."""

from __future__ import annotations

import ssl
import stat
import uuid
import warnings
from pathlib import Path

import httpx
import pytest
from gateway_support import ensure_gateway_available, gateway_param, spiffe
from testkit import free_port

from workbench.gateway import read_usage
from workbench.gateway.proc import wait_until
from workbench.inventory.model import Api, Integration, Inventory, Key, Service
from workbench.lab import SampleEnv
from workbench.secrets import key_fingerprint

APIS = {"key-api": "key", "dual-api": "dual", "mtls-api": "mtls"}


def make_inventory() -> Inventory:
    apis = tuple(Api(a, f"https://127.0.0.1:8443/{a}", ("internal",), "team", "prod") for a in APIS)
    keys = tuple(Key(f"{a}-k", a, secret_ref=f"file:state/keys/{a}-k.key") for a in APIS)
    return Inventory(
        apis=apis,
        services=(Service("billing", "t", "prod"), Service("other", "t", "prod")),
        keys=keys,
        integrations=tuple(Integration("billing", k.id) for k in keys),
        trust_domain="acme.test",
    )


class Env:
    def __init__(self, kind: str, root: Path, pki) -> None:
        self.kind = kind
        self.pki = pki
        self.inv = make_inventory()
        self.port = free_port()
        self.sample = SampleEnv(
            self.inv, root / "state", gateway=kind, port=self.port, inventory_dir=root
        )
        self.revoked = pki.client("billing", tag="-revoked")
        crl = pki.write_crl([self.revoked])
        self.sample.up(pki.server_cert, pki.server_key, pki.ca_bundle, crl=crl, modes=APIS)
        self.keys = {a: (root / "state" / "keys" / f"{a}-k.key").read_text().strip() for a in APIS}
        self.anon = ssl.create_default_context(cafile=str(pki.server_ca))

    def url(self, api: str, tail: str = "data") -> str:
        return f"https://127.0.0.1:{self.port}/{api}/{tail}"

    def get(self, api: str, *, key=None, ident=None, tail: str = "data", ua: str | None = None):
        """Status code, or the SSLError reason when the TLS layer refused."""
        ctx = ident.context(self.pki.server_ca) if ident else self.anon
        headers = {"X-API-Key": key} if key else {}
        if ua:
            headers["User-Agent"] = ua
        try:
            with httpx.Client(verify=ctx, timeout=10) as c:
                r = c.get(self.url(api, tail), headers=headers)
                return r.status_code, (r.json() if r.status_code == 200 else None)
        except (httpx.HTTPError, ssl.SSLError) as exc:
            cause: BaseException | None = exc
            while cause is not None:
                if isinstance(cause, ssl.SSLError):
                    return f"tls:{cause.reason}", None
                cause = cause.__cause__ or cause.__context__
            raise


@pytest.fixture(scope="module", params=[gateway_param("python"), gateway_param("nginx")])
def env(request, pki, tmp_path_factory):
    kind = request.param
    ensure_gateway_available(kind)
    e = Env(kind, tmp_path_factory.mktemp(f"env-{kind}"), pki)
    yield e
    e.sample.down()


def refused(result) -> bool:
    status = result[0]
    return status in (401, 403) or (isinstance(status, str) and status.startswith("tls:"))


# ---- key mode


def test_key_mode_accepts_the_key(env):
    status, body = env.get("key-api", key=env.keys["key-api"])
    assert status == 200
    assert body["auth"] == "key"
    assert body["caller"] == key_fingerprint(env.keys["key-api"])


def test_key_mode_refuses_no_key_wrong_key_and_cert_alone(env, pki):
    assert env.get("key-api")[0] == 401
    assert env.get("key-api", key=env.keys["dual-api"])[0] == 401  # another API's key
    assert env.get("key-api", ident=pki.client("billing"))[0] == 401


# ---- dual mode


def test_dual_accepts_key_or_allowed_cert(env, pki):
    status, body = env.get("dual-api", key=env.keys["dual-api"])
    assert (status, body["auth"]) == (200, "key")
    status, body = env.get("dual-api", ident=pki.client("billing"))
    assert (status, body["auth"], body["caller"]) == (200, "cert", spiffe("billing"))


def test_dual_refuses_none_and_other_service_cert(env, pki):
    assert env.get("dual-api")[0] == 401
    assert env.get("dual-api", ident=pki.client("other"))[0] == 403


# ---- mtls mode


def test_mtls_accepts_the_allowed_cert(env, pki):
    status, body = env.get("mtls-api", ident=pki.client("billing"))
    assert status == 200
    assert body == {
        "api": "mtls-api",
        "record": body["record"],
        "caller": spiffe("billing"),
        "auth": "cert",
    }
    assert env.get("mtls-api", ident=pki.client("billing"), tail="health")[1] == {
        "api": "mtls-api",
        "ok": True,
    }


def test_mtls_refuses_the_old_key_alone_and_no_credentials(env):
    assert env.get("mtls-api", key=env.keys["mtls-api"])[0] == 401
    assert env.get("mtls-api")[0] == 401


def test_mtls_gives_403_to_another_services_valid_cert(env, pki):
    assert env.get("mtls-api", ident=pki.client("other"))[0] == 403
    # Right SPIFFE id but a CN naming someone else: refused by both gateways alike.
    assert env.get("mtls-api", ident=pki.client("billing", cn="other"))[0] == 403


def test_mtls_refuses_a_foreign_ca_cert(env, pki):
    result = env.get("mtls-api", ident=pki.client("billing", foreign=True))
    assert refused(result), result
    if env.kind == "python":
        assert result[0] == "tls:TLSV1_ALERT_UNKNOWN_CA"
    else:
        assert result[0] == 403


def test_revoked_cert_is_refused_when_a_crl_is_deployed(env):
    result = env.get("mtls-api", ident=env.revoked)
    assert refused(result), result
    if env.kind == "python":
        assert result[0] == "tls:SSLV3_ALERT_CERTIFICATE_REVOKED"
    else:
        assert result[0] == 403


def test_unknown_path_is_404(env):
    assert env.get("nope-api", key=env.keys["key-api"])[0] == 404


# ---- logs and secrecy


def test_access_log_has_fingerprints_and_never_key_values(env, pki):
    ua = f"canary-{uuid.uuid4().hex}"
    env.get("key-api", key=env.keys["key-api"], ua=ua)
    env.get("mtls-api", key=env.keys["mtls-api"], ua=ua)
    state = env.sample.state_dir
    log = _wait_log(env, ua, 2)
    assert key_fingerprint(env.keys["key-api"]) in log
    assert key_fingerprint(env.keys["mtls-api"]) in log
    # Canary: no key value in any file the env writes, except the nginx config (0600).
    for path in state.rglob("*"):
        if not path.is_file() or path.parent.name == "keys":
            continue
        text = path.read_bytes()
        has_key = any(v.encode() in text for v in env.keys.values())
        if path.name == "nginx.conf":
            assert has_key and stat.S_IMODE(path.stat().st_mode) == 0o600
        else:
            assert not has_key, f"key value leaked into {path}"
    key_files = list((state / "keys").iterdir())
    assert key_files
    for key_file in key_files:
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "keys").stat().st_mode) == 0o700


def _wait_log(env, needle: str, count: int = 1) -> str:
    """nginx writes a log line after the response is sent: wait for it (bounded)."""
    log = env.sample.state_dir / "access.log"
    wait_until(
        lambda: log.read_text().count(needle) >= count, timeout=10, what=f"{needle} in the log"
    )
    return log.read_text()


def test_usage_report_counts_a_key(env):
    fp = key_fingerprint(env.keys["dual-api"])
    ua = f"usage-{uuid.uuid4().hex}"
    for _ in range(3):
        assert env.get("dual-api", key=env.keys["dual-api"], ua=ua)[0] == 200
    _wait_log(env, ua, 3)
    report = read_usage(env.sample.state_dir / "access.log", key_fingerprint=fp, api="dual-api")
    assert report.accepted >= 3 and report.refused == 0
    assert report.still_used
    assert report.client_ips == ("127.0.0.1",)
    assert ua in report.user_agents
    assert report.last_accepted is not None and report.last_seen >= report.first_seen
    # The retired mtls key: seen, refused, never accepted.
    ua = f"old-{uuid.uuid4().hex}"
    assert env.get("mtls-api", key=env.keys["mtls-api"], ua=ua)[0] == 401
    _wait_log(env, ua)
    old = read_usage(
        env.sample.state_dir / "access.log", key_fingerprint=key_fingerprint(env.keys["mtls-api"])
    )
    assert old.refused >= 1 and old.accepted == 0 and not old.still_used


def _handshake_error(env, ctx: ssl.SSLContext) -> str:
    with (
        pytest.raises((httpx.HTTPError, ssl.SSLError)) as exc,
        httpx.Client(verify=ctx, timeout=10) as c,
    ):
        c.get(env.url("key-api"))
    cause: BaseException | None = exc.value
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    assert cause is not None, exc.value
    return cause.reason


def test_tls_floor_refuses_tls11_and_cbc_suites(env, pki):
    """Requirement 8, checked on the wire: the server refuses, not the client."""
    old = ssl.create_default_context(cafile=str(pki.server_ca))
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated on purpose here
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    assert _handshake_error(env, old) in ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL")
    cbc = ssl.create_default_context(cafile=str(pki.server_ca))
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA")
    assert _handshake_error(env, cbc) == "SSLV3_ALERT_HANDSHAKE_FAILURE"
