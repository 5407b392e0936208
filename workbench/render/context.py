"""Plain template contexts: everything a client or gateway config needs, and nothing secret.

The contexts are built from the workspace (active certificates, CA and CRL files) and the
inventory, once, before any template runs; templates only format them. That keeps templates
easy to read and to adapt, and lets tests check a context without rendering anything.
Paths are absolute so a rendered file works from any directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import ConfigRenderError

__all__ = [
    "DEFAULT_UPSTREAM",
    "KEY_MAP_DIR",
    "P12_PASSWORD_ENV",
    "ClientContext",
    "GatewayContext",
    "client_contexts",
    "gateway_context",
]

P12_PASSWORD_ENV = "WORKBENCH_P12_PASSWORD"  # noqa: S105 - a variable name, not a value
"""Environment variable that holds the PKCS#12 password (same as ``workbench issue``)."""
DEFAULT_UPSTREAM = "http://127.0.0.1:8080"
"""Placeholder backend for gateway configs; replace it (``--upstream``)."""
KEY_MAP_DIR = "/etc/nginx/workbench/keys"
"""Where a team keeps the nginx ``map`` include files holding old key values (0600)."""
_HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
PLACEHOLDER_SERVER_CERT = "/etc/workbench/tls/server.chain.pem"
PLACEHOLDER_SERVER_KEY = "/etc/workbench/tls/server.key"
PLACEHOLDER_SERVER_LEAF = "/etc/workbench/tls/server.crt"


@dataclass(frozen=True)
class ClientContext:
    """What one consumer needs to present its certificate to one API."""

    step: str
    """The step (old key id) this config belongs to."""
    service: str
    """Consumer service id (the certificate's CN)."""
    environment: str
    """The consumer's environment (prod, staging, ...)."""
    spiffe_id: str
    """The certificate's SPIFFE URI SAN."""
    serial: str
    """Certificate serial (lower-case hex)."""
    not_before: datetime
    """Start of validity (UTC)."""
    not_after: datetime
    """Expiry (UTC)."""
    cert_path: str
    """Absolute path of the leaf certificate (PEM)."""
    key_path: str
    """Absolute path of the private key (PEM, 0600). The path only, never the key."""
    chain_path: str
    """Absolute path of leaf + intermediate + root (PEM): what a client presents."""
    ca_bundle: str
    """Absolute path of the CA root that verifies the gateway's server certificate."""
    p12_path: str | None
    """Absolute path of the PKCS#12 keystore, if one was issued."""
    p12_alias: str
    """Alias of the key entry in the PKCS#12 keystore."""
    api_id: str
    """The API the old key unlocks."""
    api_url: str
    """Base URL of the API."""
    health_path: str
    """Path (relative to ``api_url``) that answers 2xx to an authorised caller."""
    key_header: str
    """Header the old key travelled in (to be removed from the client)."""
    tls_server_name: str
    """Name to verify the gateway's certificate against: the URL host, or, when that is an
    IP literal, a DNS SAN of the workspace's gateway certificate (nginx's
    ``proxy_ssl_verify`` checks DNS names only, never IP SANs)."""

    @property
    def health_url(self) -> str:
        """``api_url`` + ``health_path``."""
        return self.api_url.rstrip("/") + "/" + self.health_path.lstrip("/")

    @property
    def api_host(self) -> str:
        """Host part of the API URL (the TLS server name)."""
        return urlsplit(self.api_url).hostname or ""

    @property
    def api_origin(self) -> str:
        """``scheme://host:port`` of the API."""
        u = urlsplit(self.api_url)
        return f"{u.scheme}://{u.netloc}"

    @property
    def api_path(self) -> str:
        """Path part of the API URL, ``/`` at least."""
        return urlsplit(self.api_url).path or "/"

    @property
    def lifetime_hours(self) -> int:
        """Certificate lifetime in whole hours (at least 1)."""
        return max(1, int((self.not_after - self.not_before).total_seconds() // 3600))


@dataclass(frozen=True)
class GatewayContext:
    """What the gateway in front of one API needs for each phase of a step."""

    step: str
    """The step (old key id) being migrated."""
    api_id: str
    """Inventory API id."""
    url: str
    """Public URL of the API."""
    host: str
    """Host part of ``url`` (listen address / server name)."""
    port: int
    """Port part of ``url``."""
    listen: str
    """``host:port`` the gateway listens on (default: host and port of ``url``)."""
    path_prefix: str
    """``/<api-id>``: the location the API is served under."""
    upstream: str
    """Backend the gateway proxies to (placeholder unless given)."""
    provided_by: str | None
    """Service that serves the API (used as a workload selector), if known."""
    environment: str
    """The API's environment."""
    key_header: str
    """Header carrying the old static keys."""
    key_ids: tuple[str, ...]
    """Old keys the API still accepts during the overlap (ids only)."""
    key_map_includes: tuple[str, ...]
    """nginx ``map`` include files (one per key) a team fills with key values; never rendered."""
    allowed_identities: tuple[str, ...]
    """SPIFFE ids allowed to call the API after cut-over."""
    allowed_cns: tuple[str, ...]
    """Their certificate CNs (service names), the part nginx and HAProxy can check."""
    client_ca_bundle: str
    """Absolute path of the CA chain (intermediate + root) client certificates chain to."""
    crl: str | None
    """Absolute path of the CRL file (one CRL per CA), or None when none was published yet."""
    server_cert: str
    """Server certificate chain (PEM): the workspace's gateway certificate or a placeholder."""
    server_key: str
    """Server private key path (never its content)."""
    server_serial: str | None
    """Serial of the workspace's gateway certificate, if any."""
    server_not_after: datetime | None
    """Its expiry, if any."""
    server_cert_leaf: str = PLACEHOLDER_SERVER_LEAF
    """The leaf alone (``<name>.crt`` beside ``<name>.key``): HAProxy finds the key by name."""

    @property
    def var(self) -> str:
        """The API id as an nginx/HAProxy identifier fragment (unique per API)."""
        return re.sub(r"[^a-z0-9]", "_", self.api_id.lower())

    @property
    def upstream_host(self) -> str:
        """Host of :attr:`upstream`."""
        return urlsplit(self.upstream).hostname or ""

    @property
    def upstream_port(self) -> int:
        """Port of :attr:`upstream` (80/443 by scheme when absent)."""
        u = urlsplit(self.upstream)
        return u.port or (443 if u.scheme == "https" else 80)

    @property
    def upstream_tls(self) -> bool:
        """True when the upstream is https."""
        return urlsplit(self.upstream).scheme == "https"


def _abs(ws_dir: Path, rel: str | None) -> str | None:
    return None if rel is None else str((ws_dir / rel).resolve())


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _gateway_dns_name(campaign: Any) -> str | None:
    """First DNS SAN of the workspace's active gateway server certificate, if any."""
    from cryptography import x509

    from workbench.migration.issuance import GATEWAY_SERVICE

    found = campaign.workspace.active_in_slot(None, GATEWAY_SERVICE, "server")
    if not found or not found[0].cert_path:
        return None
    try:
        cert = x509.load_pem_x509_certificate(
            (campaign.directory / found[0].cert_path).read_bytes()
        )
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    names = san.get_values_for_type(x509.DNSName)
    return names[0] if names else None


def client_contexts(campaign: Any, step_key: str) -> list[ClientContext]:
    """One context per consumer of ``step_key``, from its active certificate.

    Raises ConfigRenderError naming the consumers that have no active certificate.
    """
    ws, inv = campaign.workspace, campaign.inventory
    step = ws.step(step_key)  # WorkspaceError for an unknown step
    if step_key not in inv.keys_by_id:
        raise ConfigRenderError(
            f"step {step_key} is not a key of the inventory: re-run `workbench init`"
        )
    key = inv.key(step_key)
    api = inv.api(key.api)
    consumers = inv.consumers_of(step_key) or step.consumers
    ca_root = str(campaign.server_root_file.resolve())  # trust for the gateway's TLS cert
    host = urlsplit(api.url).hostname or ""
    server_name = (_gateway_dns_name(campaign) or host) if _is_ip(host) else host
    out, missing = [], []
    for service_id in consumers:
        found = ws.active_in_slot(step_key, service_id, "client")
        if not found or not found[0].key_path or not found[0].cert_path:
            missing.append(service_id)
            continue
        rec = found[0]
        service = inv.services_by_id.get(service_id)
        out.append(
            ClientContext(
                step=step_key,
                service=service_id,
                environment=service.environment if service else api.environment,
                spiffe_id=rec.spiffe_id or "",
                serial=rec.serial,
                not_before=rec.not_before,
                not_after=rec.not_after,
                cert_path=_abs(ws.directory, rec.cert_path),  # type: ignore[arg-type]
                key_path=_abs(ws.directory, rec.key_path),  # type: ignore[arg-type]
                chain_path=_abs(ws.directory, rec.chain_path or rec.cert_path),  # type: ignore[arg-type]
                ca_bundle=ca_root,
                p12_path=_abs(ws.directory, rec.p12_path),
                p12_alias=service_id,
                api_id=api.id,
                api_url=api.url,
                health_path=api.health_path or "/",
                key_header=key.header,
                tls_server_name=server_name,
            )
        )
    if missing:
        raise ConfigRenderError(
            f"step {step_key}: no active certificate for {', '.join(missing)}: "
            f"run `workbench issue --step {step_key}` first"
        )
    return out


def gateway_context(
    campaign: Any,
    step_key: str,
    *,
    upstream: str | None = None,
    key_map_dir: str = KEY_MAP_DIR,
    listen: str | None = None,
) -> GatewayContext:
    """The gateway context of the API behind ``step_key``."""
    from workbench.gateway.spec import allowed_identities_for, service_of_identity
    from workbench.migration.issuance import GATEWAY_SERVICE

    ws, inv = campaign.workspace, campaign.inventory
    ws.step(step_key)
    if step_key not in inv.keys_by_id:
        raise ConfigRenderError(
            f"step {step_key} is not a key of the inventory: re-run `workbench init`"
        )
    api = inv.api(inv.key(step_key).api)
    u = urlsplit(api.url)
    if u.scheme != "https" or not u.hostname:
        raise ConfigRenderError(f"API {api.id}: url {api.url} is not https://host[:port]/...")
    keys = [k for k in inv.keys if k.api == api.id]
    for k in keys:
        if not _HEADER.fullmatch(k.header):
            raise ConfigRenderError(f"key {k.id}: header {k.header!r} is not an HTTP token")
    identities = allowed_identities_for(inv, api.id)
    server = ws.active_in_slot(None, GATEWAY_SERVICE, "server")
    rec = server[0] if server and server[0].key_path else None
    crl = campaign.crl_dir / "crl.pem"
    upstream = upstream or DEFAULT_UPSTREAM
    if urlsplit(upstream).scheme not in ("http", "https") or not urlsplit(upstream).hostname:
        raise ConfigRenderError(f"upstream {upstream!r} is not an http(s)://host:port URL")
    return GatewayContext(
        step=step_key,
        api_id=api.id,
        url=api.url,
        host=u.hostname,
        port=u.port or 443,
        listen=listen or f"{u.hostname}:{u.port or 443}",
        path_prefix=f"/{api.id}",
        upstream=upstream.rstrip("/"),
        provided_by=api.provided_by,
        environment=api.environment,
        key_header=keys[0].header if keys else "X-API-Key",
        key_ids=tuple(k.id for k in keys),
        key_map_includes=tuple(f"{key_map_dir.rstrip('/')}/{k.id}.map" for k in keys),
        allowed_identities=identities,
        allowed_cns=tuple(dict.fromkeys(service_of_identity(i) for i in identities)),
        client_ca_bundle=str((campaign.ca_dir / "chain.pem").resolve()),
        crl=str(crl.resolve()) if crl.exists() else None,
        server_cert=_abs(ws.directory, rec.chain_path or rec.cert_path)  # type: ignore[arg-type]
        if rec
        else PLACEHOLDER_SERVER_CERT,
        server_key=_abs(ws.directory, rec.key_path) if rec else PLACEHOLDER_SERVER_KEY,  # type: ignore[arg-type]
        server_cert_leaf=_abs(ws.directory, rec.cert_path) if rec else PLACEHOLDER_SERVER_LEAF,  # type: ignore[arg-type]
        server_serial=rec.serial if rec else None,
        server_not_after=rec.not_after if rec else None,
    )
