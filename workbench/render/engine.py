"""Render a step's client and gateway configs from jinja2 templates, atomically.

``render_step`` builds the plain contexts (:mod:`.context`), renders every requested format
(:mod:`.formats`) into memory, then writes all files in one :class:`DurableBatch`: either
every file of the run is replaced or none is. Layout under ``<ws>/rendered/<step>/`` (or
``out_dir``)::

    clients/<service>/<files of each client format>
    gateway/<api>/<files of each gateway format>
    manifest.json

Directories are 0700 and files 0644, except the Kubernetes Secret (0600: it is the one file
that carries private key material). Old static key values are never read here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.errors import ConfigRenderError
from workbench.render.context import (
    P12_PASSWORD_ENV,
    ClientContext,
    GatewayContext,
    client_contexts,
    gateway_context,
)
from workbench.render.filters import FILTERS, finalize
from workbench.render.formats import FORMATS, Output, parse_formats
from workbench.states import GatewayMode

__all__ = ["RenderResult", "RenderedFile", "render_step"]

RENDERED_DIR = "rendered"


@dataclass(frozen=True)
class RenderedFile:
    """One file written by :func:`render_step`."""

    path: Path
    """Absolute path of the file."""
    format: str
    """Format name (``httpx``, ``nginx-gateway``, ... or ``manifest``)."""
    kind: str
    """``client``, ``gateway`` or ``manifest``."""
    subject: str
    """Consumer service id for client files, API id for gateway files."""
    mode: int
    """File mode (0o600 for the Kubernetes Secret)."""
    sha256: str
    """SHA-256 hex of the content."""
    secret: bool = False
    """True when the file holds private key material."""


@dataclass(frozen=True)
class RenderResult:
    """What one render run wrote."""

    step: str
    """The step rendered."""
    directory: Path
    """The directory the files went to."""
    files: tuple[RenderedFile, ...]
    """Every file written, clients first, then gateway files, then the manifest."""
    warnings: tuple[str, ...] = field(default=())
    """Things to fix before use (expired certs, missing keystores, placeholder paths)."""


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench.render", "templates"),
        autoescape=False,  # noqa: S701 - configs and code, not HTML; values go through filters
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,  # every {{ value }} must have gone through a syntax filter
    )
    env.filters.update(FILTERS)
    return env


# ---- headers (req. 4 of the issue: which step, service and certificate a file belongs to)


def _client_header(ctx: ClientContext, fmt: str, now: datetime, secret: bool) -> list[str]:
    lines = [
        f"Rendered by `workbench render` at {now.isoformat(timespec='seconds')} "
        f"for step {ctx.step} (format {fmt}).",
        f"Service {ctx.service} ({ctx.spiffe_id}) calling API {ctx.api_id} at {ctx.api_url}.",
        f"Certificate serial {ctx.serial}, valid until "
        f"{ctx.not_after.isoformat(timespec='seconds')}: re-render after `workbench renew`.",
    ]
    if secret:
        lines.append(
            "SECRET: this file CONTAINS THE PRIVATE KEY (tls.key). Keep it 0600, never commit "
            "it, apply it and delete it."
        )
    else:
        lines.append(
            "Holds paths only: no private key and no static key value. Stop sending the "
            f"{ctx.key_header} header once this works."
        )
    return lines


def _gateway_header(ctx: GatewayContext, fmt: str, phase: str | None, now: datetime) -> list[str]:
    what = {
        GatewayMode.DUAL: "overlap phase: the old keys OR an allowed client certificate",
        GatewayMode.MTLS: "cut-over phase: an allowed client certificate only, old keys refused",
    }.get(phase or "", "")
    lines = [
        f"Rendered by `workbench render` at {now.isoformat(timespec='seconds')} "
        f"for step {ctx.step} (format {fmt}).",
        f"Gateway for API {ctx.api_id} at {ctx.url}: {what}.",
        f"Allowed identities: {', '.join(ctx.allowed_identities) or 'none'}.",
    ]
    if ctx.server_serial and ctx.server_not_after:
        lines.append(
            f"Server certificate serial {ctx.server_serial}, valid until "
            f"{ctx.server_not_after.isoformat(timespec='seconds')}."
        )
    else:
        lines.append("Server certificate: placeholder paths; replace them with your own.")
    lines.append(
        "No private key and no static key value in this file (key values live in 0600 "
        "include files you provide)."
    )
    return lines


# ---- the truststore (built in code: a template cannot make PKCS#12)


def _truststore(ca_root: str) -> bytes:
    """A PKCS#12 truststore holding the CA root as a Java ``trustedCertEntry``.

    No password and no MAC: it holds one public certificate, exactly like the PEM root
    next to it; Java (8u301+, 11.0.12+, 17) loads such a store without a password.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12

    try:
        roots = x509.load_pem_x509_certificates(Path(ca_root).read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigRenderError(
            f"{ca_root}: cannot read the CA root ({type(exc).__name__}): check the workspace"
        ) from None
    entries = [
        pkcs12.PKCS12Certificate(c, f"workbench-root-{i}".encode()) for i, c in enumerate(roots)
    ]
    return pkcs12.serialize_java_truststore(entries, NoEncryption())


def _secret_data(ctx: ClientContext) -> dict[str, str]:
    """Base64 of chain, key and CA root: only the Kubernetes Secret template gets these."""

    def b64(path: str) -> str:
        try:
            return base64.b64encode(Path(path).read_bytes()).decode("ascii")
        except OSError as exc:
            raise ConfigRenderError(
                f"{path}: cannot read ({exc.strerror}): re-issue with `workbench issue --renew`"
            ) from None

    return {"tls_crt": b64(ctx.chain_path), "tls_key": b64(ctx.key_path),
            "ca_crt": b64(ctx.ca_bundle)}  # fmt: skip


# ---- the run


def _render_client(
    env, fmt: str, out: Output, ctx: ClientContext, now: datetime, here: Path
) -> bytes:
    if out.template is None:
        return _truststore(ctx.ca_bundle)
    extra = _secret_data(ctx) if out.secret else {}
    return (
        env.get_template(out.template)
        .render(
            c=ctx,
            header=_client_header(ctx, fmt, now, out.secret),
            p12_password_env=P12_PASSWORD_ENV,
            secret=extra,
            here=str(here),
        )
        .encode()
    )


def _render_gateway(env, fmt: str, out: Output, ctx: GatewayContext, now: datetime) -> bytes:
    from workbench.gateway.pyref import AEAD_CIPHERS

    assert out.template is not None
    return (
        env.get_template(out.template)
        .render(
            g=ctx,
            phase=out.phase,
            header=_gateway_header(ctx, fmt, out.phase, now),
            ciphers=AEAD_CIPHERS,
        )
        .encode()
    )


def render_step(
    campaign: Any,
    step_key: str,
    *,
    formats: Iterable[str] | str | None = None,
    out_dir: str | Path | None = None,
    now: datetime,
    upstream: str | None = None,
    key_map_dir: str | None = None,
    listen: str | None = None,
    durable: bool = True,
) -> RenderResult:
    """Render ``formats`` (default: all) for every consumer of ``step_key`` and its API gateway.

    Files go to ``<workspace>/rendered/<step>/`` unless ``out_dir`` is given. ``upstream`` is
    the backend URL gateway configs proxy to (a placeholder otherwise); ``key_map_dir`` is
    where the nginx dual-phase config expects the 0600 key-map include files; ``listen``
    (``host:port``) overrides the address gateway configs bind (default: the API URL's).
    """
    from workbench.workspace import DurableBatch, ensure_private_dir, safe_join

    names = parse_formats(formats) if isinstance(formats, str | None) else tuple(formats)
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        parse_formats(",".join(unknown))  # raises with the list of formats
    chosen = [FORMATS[n] for n in names]
    clients = client_contexts(campaign, step_key)
    gw_kwargs = {"upstream": upstream, "listen": listen}
    if key_map_dir:
        gw_kwargs["key_map_dir"] = key_map_dir
    gateway = gateway_context(campaign, step_key, **gw_kwargs)
    base = (
        Path(out_dir).resolve()
        if out_dir is not None
        else safe_join(campaign.directory, RENDERED_DIR, step_key)
    )
    env = _environment()
    warnings: list[str] = []
    planned: list[tuple[Path, bytes, Output, str, str, str]] = []
    for ctx in clients:
        if ctx.not_after <= now:
            warnings.append(f"{ctx.service}: certificate {ctx.serial} has expired: renew it")
        for fmt in (f for f in chosen if f.kind == "client"):
            if fmt.name == "java" and not ctx.p12_path:
                warnings.append(
                    f"{ctx.service}: no PKCS#12 keystore: java skipped; re-issue with "
                    f"{P12_PASSWORD_ENV} set (`workbench issue --step {step_key} --renew`)"
                )
                continue
            for out in fmt.outputs:
                data = _render_client(env, fmt.name, out, ctx, now, base / "clients" / ctx.service)
                planned.append((Path("clients", ctx.service, out.filename), data, out,
                                fmt.name, "client", ctx.service))  # fmt: skip
    for fmt in (f for f in chosen if f.kind == "gateway"):
        for out in fmt.outputs:
            data = _render_gateway(env, fmt.name, out, gateway, now)
            planned.append((Path("gateway", gateway.api_id, out.filename), data, out,
                            fmt.name, "gateway", gateway.api_id))  # fmt: skip
    if any(p[4] == "gateway" for p in planned) and gateway.server_serial is None:
        warnings.append("no gateway server certificate in the workspace: placeholder paths used")

    files: list[RenderedFile] = []
    ensure_private_dir(base)
    with DurableBatch(durable=durable) as batch:
        for rel, data, out, fmt_name, kind, subject in planned:
            target = safe_join(base, *rel.parts)
            ensure_private_dir(target.parent)
            batch.add_directory(target.parent)
            batch.write(target, data, mode=out.mode)
            files.append(RenderedFile(target, fmt_name, kind, subject, out.mode,
                                      hashlib.sha256(data).hexdigest(), out.secret))  # fmt: skip
        manifest = _manifest(step_key, now, base, files, warnings)
        target = base / "manifest.json"
        batch.write(target, manifest, mode=0o644)
        files.append(RenderedFile(target, "manifest", "manifest", step_key, 0o644,
                                  hashlib.sha256(manifest).hexdigest()))  # fmt: skip
    return RenderResult(step_key, base, tuple(files), tuple(warnings))


def _manifest(
    step: str, now: datetime, base: Path, files: list[RenderedFile], warnings: list[str]
) -> bytes:
    """JSON has no comments: the header goes into a ``_comment`` key."""
    doc = {
        "_comment": (
            f"Rendered by `workbench render` at {now.isoformat(timespec='seconds')} for step "
            f"{step}. Only k8s-secret.yaml files hold private key material (0600)."
        ),
        "step": step,
        "files": [
            {
                "path": str(f.path.relative_to(base)),
                "format": f.format,
                "kind": f.kind,
                "subject": f.subject,
                "mode": oct(f.mode),
                "sha256": f.sha256,
                "secret": f.secret,
            }
            for f in files
        ],  # fmt: skip
        "warnings": warnings,
    }
    return (json.dumps(doc, indent=2) + "\n").encode()
