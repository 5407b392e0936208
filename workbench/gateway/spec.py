"""What a gateway enforces, as pure data: listener, TLS material, routes and their auth modes.

A :class:`GatewaySpec` holds paths only (certificates, key files, logs), never a key value,
so it can be stored and audited as JSON. Both gateways (:mod:`workbench.gateway.pyref` and
:mod:`workbench.gateway.nginx`) turn the same spec into the same behaviour.

Identity rule shared by both gateways (see ``docs`` in :mod:`workbench.gateway`): a verified
client certificate is authorised for a route when its subject CN equals the last path segment
of one of the route's allowed SPIFFE ids (``spiffe://<td>/<env>/<service>`` -> ``CN=<service>``);
the Python gateway also requires the URI SAN to be exactly that SPIFFE id. nginx has no SAN
variable, so the CN is the part both can check; the trust boundary that keeps a CN unique is
the client CA bundle (one CA per trust domain and environment).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.errors import GatewayError
from workbench.states import GatewayMode

__all__ = [
    "MODES",
    "GatewaySpec",
    "RenderedConfig",
    "Route",
    "allowed_identities_for",
    "api_path_prefix",
    "service_of_identity",
    "spec_from_inventory",
]

MODES = tuple(m.value for m in GatewayMode)
"""Auth modes a route can be in (:class:`~workbench.states.GatewayMode`). ``mtls+token`` = an
allowed certificate AND an RFC 8705 access token bound to it (see
:mod:`workbench.gateway.tokenauth`)."""

_API_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_PATH_PREFIX = re.compile(r"^(/(?!\.\.?(/|$))[A-Za-z0-9._~-]+){1,16}$")
_HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
_SPIFFE = re.compile(r"^spiffe://[a-z0-9.-]+(/[A-Za-z0-9._-]+)+$")
_AUDIENCE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#@!&'()*+,;=%-]{1,500}$")
_LOOPBACK_HTTPS = re.compile(r"^https://127\.0\.0\.1:\d{1,5}(/[A-Za-z0-9._-]+)*$")


@dataclass(frozen=True)
class Route:
    """One API behind the gateway and how callers must authenticate to it."""

    api_id: str
    """Inventory API id; also the log's ``api`` field."""
    path_prefix: str
    """URL path prefix: the path of the API's URL (``/`` when it has none); matches the
    prefix itself and anything below ``prefix/``."""
    mode: str
    """``key`` (static key only), ``dual`` (key or allowed cert), ``mtls`` (allowed cert only),
    ``mtls+token`` (allowed cert and an access token bound to it)."""
    key_header: str = "X-API-Key"
    """Request header carrying the static key."""
    key_files: tuple[str, ...] = ()
    """Files holding the accepted static key values (read at start and reload, never logged)."""
    allowed_identities: tuple[str, ...] = ()
    """SPIFFE ids whose certificates may call this API (cert path of ``dual`` and ``mtls``)."""
    token_audience: str = ""
    """The ``aud`` an access token must carry for this API (mode ``mtls+token``): its URL."""

    def __post_init__(self) -> None:
        if not _API_ID.fullmatch(self.api_id):
            raise GatewayError(f"route api id {self.api_id!r} is not a safe name: use [a-z0-9._-]")
        if self.path_prefix != "/" and not _PATH_PREFIX.match(self.path_prefix):
            raise GatewayError(
                f"route {self.api_id}: path_prefix {self.path_prefix!r} must be / or /seg[/seg] "
                "of [A-Za-z0-9._~-]"
            )
        if self.mode not in MODES:
            raise GatewayError(
                f"route {self.api_id}: mode {self.mode!r} unknown: use one of {MODES}"
            )
        if not _HEADER.fullmatch(self.key_header):
            raise GatewayError(
                f"route {self.api_id}: key header {self.key_header!r} is not a token"
            )
        for ident in self.allowed_identities:
            if not _SPIFFE.fullmatch(ident):
                raise GatewayError(
                    f"route {self.api_id}: identity {ident!r} is not a spiffe://td/path URI"
                )
        if self.token_audience and not _AUDIENCE.fullmatch(self.token_audience):
            raise GatewayError(
                f"route {self.api_id}: token audience must be a URI without quotes or spaces"
            )
        if self.mode == GatewayMode.MTLS_TOKEN and not self.token_audience:
            raise GatewayError(
                f"route {self.api_id}: mode {GatewayMode.MTLS_TOKEN} needs token_audience "
                "(the API's URL)"
            )

    def matches(self, path: str) -> bool:
        """True for the prefix itself and anything below it."""
        p = self.path_prefix
        return p == "/" or path == p or path.startswith(p + "/")


@dataclass(frozen=True)
class GatewaySpec:
    """Everything a gateway needs; paths only, so the spec itself is not secret."""

    port: int
    """TCP port to listen on."""
    server_cert: str
    """PEM server certificate (chain) file."""
    server_key: str
    """PEM server private key file (0600)."""
    client_ca_bundle: str
    """PEM bundle of the CAs whose client certificates are trusted."""
    routes: tuple[Route, ...]
    """The APIs served, in order."""
    backend_url: str
    """``http://127.0.0.1:PORT`` of the backend the gateway proxies to (loopback only)."""
    access_log: str
    """JSON Lines access log path."""
    state_dir: str
    """Directory for the gateway's own files (config, pid, temp, error log)."""
    crl_file: str | None = None
    """Optional PEM file holding one CRL per CA of the bundle (root included)."""
    listen_host: str = "127.0.0.1"
    """Address to listen on."""
    token_issuer: str | None = None
    """``iss`` of accepted access tokens (the authorization server's URL); mode ``mtls+token``."""
    token_jwks: str | None = None
    """JSON file with the authorization server's public JWK Set (the Python gateway's keys)."""
    token_introspect_url: str | None = None
    """``https://127.0.0.1:PORT/introspect-bound`` that nginx's ``auth_request`` asks."""
    token_server_ca: str | None = None
    """PEM CA bundle nginx uses to verify the authorization server's TLS certificate."""
    routes_by_api: Mapping[str, Route] = field(init=False, compare=False, repr=False)
    """Derived lookup, filled in automatically."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise GatewayError(f"gateway port {self.port} out of range 1-65535")
        if not re.fullmatch(r"http://127\.0\.0\.1:\d+", self.backend_url):
            raise GatewayError("backend_url must be http://127.0.0.1:PORT (loopback only)")
        ids = [r.api_id for r in self.routes]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise GatewayError(f"duplicate routes for {sorted(dup)}: one route per API")
        prefixes = [r.path_prefix for r in self.routes]
        clash = {p for p in prefixes if prefixes.count(p) > 1}
        if clash or ("/" in prefixes and len(prefixes) > 1):
            raise GatewayError(
                f"APIs on port {self.port} share the path {sorted(clash) or ['/']}: give each "
                "API its own URL path (or its own port)"
            )
        object.__setattr__(self, "routes_by_api", {r.api_id: r for r in self.routes})
        if self.token_introspect_url and not _LOOPBACK_HTTPS.fullmatch(self.token_introspect_url):
            raise GatewayError(
                "token_introspect_url must be https://127.0.0.1:PORT/path (loopback)"
            )
        if any(r.mode == GatewayMode.MTLS_TOKEN for r in self.routes):
            missing = [
                name
                for name in (
                    "token_issuer",
                    "token_jwks",
                    "token_introspect_url",
                    "token_server_ca",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise GatewayError(
                    f"mode {GatewayMode.MTLS_TOKEN} needs the authorization server "
                    f"({', '.join(missing)} unset): start the sample env with its token server"
                )

    @property
    def uses_tokens(self) -> bool:
        """True when some route is in ``mtls+token`` mode."""
        return any(r.mode == GatewayMode.MTLS_TOKEN for r in self.routes)

    @property
    def backend_port(self) -> int:
        """Port part of :attr:`backend_url`."""
        return int(self.backend_url.rsplit(":", 1)[1])

    def route(self, api_id: str) -> Route:
        try:
            return self.routes_by_api[api_id]
        except KeyError:
            raise GatewayError(f"no route for API {api_id!r}: check the API id") from None

    def with_mode(self, api_id: str, mode: str) -> GatewaySpec:
        """A copy with one route's mode changed."""
        old = self.route(api_id)
        new = replace(old, mode=mode)
        return replace(self, routes=tuple(new if r is old else r for r in self.routes))

    def to_json(self) -> str:
        """Canonical JSON (sorted keys); what the Python gateway reads and what gets hashed."""
        data: dict[str, Any] = {
            "listen_host": self.listen_host,
            "port": self.port,
            "server_cert": self.server_cert,
            "server_key": self.server_key,
            "client_ca_bundle": self.client_ca_bundle,
            "crl_file": self.crl_file,
            "backend_url": self.backend_url,
            "access_log": self.access_log,
            "state_dir": self.state_dir,
            "token_issuer": self.token_issuer,
            "token_jwks": self.token_jwks,
            "token_introspect_url": self.token_introspect_url,
            "token_server_ca": self.token_server_ca,
            "routes": [
                {
                    "api_id": r.api_id,
                    "path_prefix": r.path_prefix,
                    "mode": r.mode,
                    "key_header": r.key_header,
                    "key_files": list(r.key_files),
                    "allowed_identities": list(r.allowed_identities),
                    "token_audience": r.token_audience,
                }
                for r in self.routes
            ],
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "-") -> GatewaySpec:
        try:
            data = json.loads(text)
            routes = tuple(
                Route(
                    api_id=r["api_id"],
                    path_prefix=r["path_prefix"],
                    mode=r["mode"],
                    key_header=r.get("key_header", "X-API-Key"),
                    key_files=tuple(r.get("key_files", ())),
                    allowed_identities=tuple(r.get("allowed_identities", ())),
                    token_audience=r.get("token_audience", ""),
                )
                for r in data["routes"]
            )
            return cls(
                listen_host=data.get("listen_host", "127.0.0.1"),
                port=int(data["port"]),
                server_cert=data["server_cert"],
                server_key=data["server_key"],
                client_ca_bundle=data["client_ca_bundle"],
                crl_file=data.get("crl_file"),
                routes=routes,
                backend_url=data["backend_url"],
                access_log=data["access_log"],
                state_dir=data["state_dir"],
                token_issuer=data.get("token_issuer"),
                token_jwks=data.get("token_jwks"),
                token_introspect_url=data.get("token_introspect_url"),
                token_server_ca=data.get("token_server_ca"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayError(
                f"{source}: not a gateway spec ({type(exc).__name__}): re-render it"
            ) from None


@dataclass(frozen=True)
class RenderedConfig:
    """A gateway config ready to apply."""

    content: bytes = field(repr=False)
    """The file's bytes. For nginx this holds key values: treat as secret."""
    sha256: str
    """SHA-256 hex of ``content`` (what the audit log records)."""
    config_id: str
    """What the running gateway answers on ``/__gateway/config`` once it has loaded this."""
    secret: bool
    """True when ``content`` holds key values (write 0600, never print)."""

    def __str__(self) -> str:
        return f"RenderedConfig(sha256={self.sha256[:12]}, secret={self.secret})"


def api_path_prefix(url: str) -> str:
    """The route prefix of an API URL: its path without a trailing slash, ``/`` if none."""
    from urllib.parse import urlsplit

    return urlsplit(url).path.rstrip("/") or "/"


def service_of_identity(spiffe_id: str) -> str:
    """The service name a SPIFFE id names: its last path segment (the expected CN)."""
    return spiffe_id.rstrip("/").rsplit("/", 1)[-1]


def allowed_identities_for(
    inventory: Any, api_id: str, trust_domain: str | None = None
) -> tuple[str, ...]:
    """SPIFFE ids of every consumer of any key of ``api_id`` (who may call it after cut-over).

    ``trust_domain``: the workspace's (authoritative once a CA exists); default: the
    inventory's, else the one project-wide default."""
    from workbench.inventory.model import DEFAULT_TRUST_DOMAIN

    td = trust_domain or inventory.trust_domain or DEFAULT_TRUST_DOMAIN
    out: list[str] = []
    for key in inventory.keys:
        if key.api != api_id:
            continue
        for consumer in inventory.consumers_of(key.id):
            svc = inventory.services_by_id.get(consumer)
            env = svc.environment if svc else "prod"
            ident = f"spiffe://{td}/{env}/{consumer}"
            if ident not in out:
                out.append(ident)
    return tuple(out)


def spec_from_inventory(
    inventory: Any,
    *,
    port: int,
    server_cert: str | Path,
    server_key: str | Path,
    client_ca_bundle: str | Path,
    backend_url: str,
    state_dir: str | Path,
    key_file_of: Mapping[str, str | Path],
    crl_file: str | Path | None = None,
    modes: Mapping[str, str] | None = None,
    allowed: Mapping[str, Iterable[str]] | None = None,
    access_log: str | Path | None = None,
    token: Mapping[str, str | None] | None = None,
    apis: Iterable[Any] | None = None,
    trust_domain: str | None = None,
) -> GatewaySpec:
    """One route per inventory API, keys from ``key_file_of`` (key id -> file), mode ``key``.

    ``token`` holds the authorization server settings (``token_issuer``, ``token_jwks``,
    ``token_introspect_url``, ``token_server_ca``); each route's token audience is its URL.
    """
    modes = modes or {}
    allowed = allowed or {}
    apis = list(apis) if apis is not None else None
    unknown = set(modes) - {a.id for a in inventory.apis}
    if unknown:
        raise GatewayError(f"modes name unknown APIs {sorted(unknown)}: use inventory API ids")
    routes = []
    for api in apis if apis is not None else inventory.apis:
        keys = [k for k in inventory.keys if k.api == api.id]
        headers = {k.header for k in keys} or {"X-API-Key"}
        if len(headers) > 1:
            raise GatewayError(f"API {api.id}: keys use several headers {sorted(headers)}")
        routes.append(
            Route(
                api_id=api.id,
                path_prefix=api_path_prefix(api.url),
                mode=modes.get(api.id, GatewayMode.KEY),
                key_header=headers.pop(),
                key_files=tuple(str(key_file_of[k.id]) for k in keys if k.id in key_file_of),
                allowed_identities=tuple(
                    allowed.get(api.id, allowed_identities_for(inventory, api.id, trust_domain))
                ),
                token_audience=api.url,
            )
        )
    token_fields = ("token_issuer", "token_jwks", "token_introspect_url", "token_server_ca")
    bad = set(token or {}) - set(token_fields)
    if bad:
        raise GatewayError(f"unknown token settings {sorted(bad)}: use {', '.join(token_fields)}")
    state = Path(state_dir)
    return GatewaySpec(
        port=port,
        server_cert=str(server_cert),
        server_key=str(server_key),
        client_ca_bundle=str(client_ca_bundle),
        crl_file=str(crl_file) if crl_file else None,
        routes=tuple(routes),
        backend_url=backend_url,
        access_log=str(access_log or state / "access.log"),
        state_dir=str(state),
        **{k: (str(v) if v else None) for k, v in (token or {}).items()},
    )
