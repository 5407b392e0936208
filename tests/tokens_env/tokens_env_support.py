"""A sample environment with the authorization server, for the token tests.

Uses the tests' own PKI (tests/testca.py, the same as the gateway tests'). One environment
per gateway kind, module scoped: the API ``tok-api`` is in ``mtls+token`` (reached through
``set_mode``, the cut-over primitive), its allowed callers are ``billing`` and ``other``;
``stranger`` is a valid certificate that may not call it.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from testca import Identity, TestPKI, spiffe
from testkit import ensure_gateway_available, free_port, gateway_param

from workbench.inventory.model import Api, Integration, Inventory, Key, Service
from workbench.lab import SampleEnv
from workbench.tokens import ASSERTION_TYPE

__all__ = [
    "APIS",
    "TokEnv",
    "call_status",
    "ensure_gateway_available",
    "gateway_param",
    "resource",
    "spiffe",
    "as_env",
    "tenv",
    "tok_pki",
]

APIS = {"tok-api": "mtls", "mtls-api": "mtls"}


def resource(api: str) -> str:
    """The audience of ``api``'s tokens: its inventory URL."""
    return f"https://127.0.0.1:8443/{api}"


def make_inventory() -> Inventory:
    apis = tuple(Api(a, resource(a), ("internal",), "team", "prod") for a in APIS)
    keys = tuple(Key(f"{a}-k", a, secret_ref=f"file:state/keys/{a}-k.key") for a in APIS)
    return Inventory(
        apis=apis,
        services=(
            Service("billing", "t", "prod"),
            Service("other", "t", "prod"),
            Service("stranger", "t", "prod"),
        ),
        keys=keys,
        integrations=(
            Integration("billing", "tok-api-k"),
            Integration("other", "tok-api-k"),
            Integration("billing", "mtls-api-k"),
        ),
        trust_domain="acme.test",
    )


def call_status(exc_or_response: Any) -> Any:
    """A response's status, or ``tls:<reason>`` from an SSLError in an exception's chain."""
    if isinstance(exc_or_response, httpx.Response):
        return exc_or_response.status_code
    cause: BaseException | None = exc_or_response
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return f"tls:{cause.reason}"
        cause = cause.__cause__ or cause.__context__
    raise exc_or_response


class TokEnv:
    """One running sample environment (backend, gateway, authorization server)."""

    def __init__(self, kind: str, root: Path, pki: TestPKI) -> None:
        self.kind = kind
        self.pki = pki
        self.root = root
        self.port = free_port()
        self.sample = SampleEnv(
            make_inventory(), root / "state", gateway=kind, port=self.port, inventory_dir=root
        )
        self.status = self.sample.up(
            pki.server_cert, pki.server_key, pki.ca_bundle, modes=APIS, token_server=True
        )
        self.sample.register_client("billing", [pki.client("billing").cert])
        self.gateway = self.sample.current_gateway()
        self.gateway.set_mode("tok-api", "mtls+token")
        self.status = self.sample.status()
        self.token_url = self.status.token_url
        self.issuer = self.status.issuer
        self.anon = ssl.create_default_context(cafile=str(pki.server_ca))
        self.tokens_seen: list[str] = []
        self.assertions_seen: list[str] = []

    def ctx(self, ident: Identity | None) -> ssl.SSLContext:
        return ident.context(self.pki.server_ca) if ident else self.anon

    def token_request(self, form: dict[str, str], ident: Identity | None) -> httpx.Response:
        if "client_assertion" in form:
            self.assertions_seen.append(form["client_assertion"])
        with httpx.Client(verify=self.ctx(ident), timeout=10) as c:
            r = c.post(self.token_url, data=form)
        if r.status_code == 200:
            self.tokens_seen.append(r.json()["access_token"])
        return r

    def token(self, ident: Identity, api: str = "tok-api") -> str:
        form = {"grant_type": "client_credentials", "resource": resource(api)}
        r = self.token_request(form, ident)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def assertion_form(self, assertion: str, api: str = "tok-api") -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "resource": resource(api),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }

    def call(
        self, api: str, *, ident: Identity | None, token: str | None, ua: str = "tokens-env"
    ) -> tuple[Any, httpx.Response | None]:
        """(status or ``tls:<reason>``, response) of ``GET /<api>/data`` through the gateway."""
        headers = {"User-Agent": ua}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with httpx.Client(verify=self.ctx(ident), timeout=10) as c:
                r = c.get(f"https://127.0.0.1:{self.port}/{api}/data", headers=headers)
        except (httpx.HTTPError, ssl.SSLError) as exc:
            return call_status(exc), None
        return r.status_code, r

    def signing_key_pem(self) -> bytes:
        return (self.sample.auth_dir / "as-signing.key").read_bytes()

    def now(self) -> float:
        return time.time()


@pytest.fixture(scope="session")
def tok_pki(tmp_path_factory) -> TestPKI:
    return TestPKI(tmp_path_factory.mktemp("tokpki"))


@pytest.fixture(scope="module", params=[gateway_param("python"), gateway_param("nginx")])
def tenv(request, tok_pki, tmp_path_factory):
    """A token environment per gateway kind."""
    ensure_gateway_available(request.param)
    env = TokEnv(request.param, tmp_path_factory.mktemp(f"tok-{request.param}"), tok_pki)
    yield env
    env.sample.down()


@pytest.fixture(scope="module")
def as_env(tok_pki, tmp_path_factory):
    """A token environment with the Python gateway, for the authorization server's tests."""
    env = TokEnv("python", tmp_path_factory.mktemp("tok-as"), tok_pki)
    yield env
    env.sample.down()
