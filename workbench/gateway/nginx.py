"""Render a :class:`GatewaySpec` as an nginx config (jinja2) and check it with ``nginx -t``.

The rendered config embeds the static key values in ``map`` blocks (nginx cannot read a key
file per request), so it is SECRET: written 0600, never logged or printed; ``nginx -t``
output is scrubbed of key values before it reaches an error message.

Auth is the table of :mod:`workbench.gateway.authz` written as maps over
``$ssl_client_verify``, the client certificate's subject CN and the key header. nginx cannot
hash, so each accepted key value maps to its precomputed fingerprint for the access log.

Mode ``mtls+token``: nginx cannot verify a JWT without njs (not in nginx-light), so after the
certificate part passes, ``auth_request`` sends a body-less subrequest to the authorization
server's ``/introspect-bound`` (TLS, verified against ``token_server_ca``) with the
``Authorization`` header, ``$ssl_client_escaped_cert`` and the route's audience. That endpoint
runs :func:`workbench.gateway.tokenauth.check_bound_token`, the same code the Python gateway
runs in-process, and answers 200 (with the token's jti and fingerprint for the log) or 401
with the RFC 6750 challenge, which nginx passes on. If the authorization server is down, the
subrequest fails and nginx answers 500: fail closed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from workbench.errors import GatewayError
from workbench.gateway.authz import read_route_keys
from workbench.gateway.pyref import AEAD_CIPHERS, STATUS_PATH
from workbench.gateway.spec import GatewaySpec, RenderedConfig, service_of_identity
from workbench.secrets import child_environ

__all__ = ["find_nginx", "nginx_test", "render_nginx"]

_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./@+:-]+$")


def find_nginx() -> str:
    """Path of the nginx binary, or a GatewayError saying how to install it."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if not found:
        raise GatewayError("nginx not found: install it (apt-get install -y nginx-light)")
    return found


def _check_path(p: str | None, what: str) -> None:
    if p is not None and not _SAFE_PATH.fullmatch(p):
        raise GatewayError(f"{what} path {p!r} has characters nginx config cannot carry safely")


def render_nginx(
    spec: GatewaySpec, *, prefix: Path, run_as_root: bool | None = None
) -> RenderedConfig:
    """Render the config; reads the key files (values go into the maps)."""
    import jinja2

    for what, p in (
        ("server cert", spec.server_cert),
        ("server key", spec.server_key),
        ("client CA", spec.client_ca_bundle),
        ("CRL", spec.crl_file),
        ("access log", spec.access_log),
        ("prefix", str(prefix)),
        ("token server CA", spec.token_server_ca),
    ):
        _check_path(p, what)
    routes = []
    for r in spec.routes:
        cn_map: dict[str, str] = {}
        for ident in r.allowed_identities:
            cn = service_of_identity(ident)
            if cn in cn_map and cn_map[cn] != ident:
                raise GatewayError(
                    f"route {r.api_id}: {cn_map[cn]} and {ident} share CN {cn}: nginx tells "
                    "identities apart by CN; allow one of them, or use separate CAs"
                )
            cn_map[cn] = ident
        keys = read_route_keys(r)
        routes.append(
            {
                "api_id": r.api_id,
                "mode": r.mode,
                "key_header": r.key_header,
                "header_var": "$http_" + r.key_header.lower().replace("-", "_"),
                "key_map": sorted(keys.items(), key=lambda kv: kv[1]),
                "cn_map": sorted(cn_map.items()),
                "prefix_re": "" if r.path_prefix == "/" else re.sub(r"\.", "[.]", r.path_prefix),
                "token_audience": r.token_audience,
            }
        )
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench.gateway", "templates"),
        autoescape=False,  # noqa: S701 - nginx config, not HTML; inputs are validated above
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("nginx.conf.j2")
    ctx = {
        "prefix": str(prefix),
        "run_as_root": os.geteuid() == 0 if run_as_root is None else run_as_root,
        "routes": routes,
        "listen_host": spec.listen_host,
        "port": spec.port,
        "server_cert": spec.server_cert,
        "server_key": spec.server_key,
        "client_ca_bundle": spec.client_ca_bundle,
        "crl_file": spec.crl_file,
        "ciphers": AEAD_CIPHERS,
        "access_log": spec.access_log,
        "backend_url": spec.backend_url,
        "status_path": STATUS_PATH,
        "token_introspect_url": spec.token_introspect_url or "",
        "token_server_ca": spec.token_server_ca or "",
        # nginx checks the upstream name with X509_check_host, which does not match IP SANs:
        # verify the authorization server's certificate by its DNS name instead.
        "token_server_name": "localhost",
    }
    # The config id is the hash of the config rendered without it, so it can be embedded.
    config_id = hashlib.sha256(template.render(config_id="", **ctx).encode()).hexdigest()
    content = template.render(config_id=config_id, **ctx).encode()
    return RenderedConfig(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        config_id=config_id,
        secret=True,
    )


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "[key]")
    return text


def nginx_test(nginx: str, prefix: Path, conf: Path, *, secrets: list[str]) -> None:
    """``nginx -t``; a failure becomes a GatewayError whose text has no key value in it."""
    proc = subprocess.run(
        [nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=child_environ(),  # no workbench secrets, no old keys (req. 29)
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if "[emerg]" in ln or "[crit]" in ln]
        detail = _scrub((lines or proc.stderr.splitlines() or ["no output"])[0], secrets)
        raise GatewayError(f"nginx -t rejected the rendered config: {detail.strip()}")
