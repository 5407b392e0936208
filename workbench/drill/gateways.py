"""The one place the drills meet the gateways: which gateway fronts an API, push the CRLs
to it, read the CRL it serves, and (for the canary) authorise an identity on a route.

Everything gateway-specific the drills do goes through this module, so moving to another
gateway interface is a change here only. Today the gateway is the workspace's managed one
(reached through :mod:`workbench.migration.gateway_ops`, no lab import here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from workbench.errors import GatewayError
from workbench.migration.campaign import Campaign

__all__ = [
    "GatewayRef",
    "PushResult",
    "authorise_identity",
    "authorised_on",
    "crl_file_of",
    "gateways_for",
    "modes_of",
    "push_crls",
    "revoke_authorisation",
]


@dataclass(frozen=True)
class GatewayRef:
    """A gateway in front of some of the drill's APIs."""

    id: str
    """Gateway id (``lab`` for the workspace's managed gateway)."""
    kind: str
    """``lab``, ``nginx``, ``haproxy`` or ``manual``."""
    server: str
    """The server software answering (``python``, ``nginx``, ``haproxy``, ``manual``)."""
    apis: tuple[str, ...]
    """The drill's APIs it fronts."""


@dataclass(frozen=True)
class PushResult:
    """One gateway told to re-read the CRLs."""

    gateway: str
    """Gateway id."""
    seconds: float
    """Write + validate + reload, as the gateway reported it done."""
    applied: bool
    """False when a person must apply it (manual gateway): the drill waits for the probes."""


def _managed(campaign: Campaign):
    from workbench.migration.gateway_ops import running_gateway

    return running_gateway(campaign)


def gateways_for(campaign: Campaign, api_ids: Iterable[str]) -> list[GatewayRef]:
    """The gateways fronting ``api_ids`` (each once, in first-seen order)."""
    apis = tuple(dict.fromkeys(api_ids))
    if not apis:
        return []
    gw = _managed(campaign)
    return [GatewayRef("lab", "lab", gw.name, apis)]


PushFn = Callable[[Campaign, GatewayRef], PushResult]


def push_crls(campaign: Campaign, ref: GatewayRef) -> PushResult:
    """Make ``ref`` re-read the workspace CRLs: render + validate + write + reload."""
    started = time.monotonic()
    gw = _managed(campaign)
    rendered = gw.render(gw.spec)
    gw.validate(rendered)
    gw.apply(rendered)
    return PushResult(ref.id, round(time.monotonic() - started, 4), True)


def crl_file_of(campaign: Campaign, ref: GatewayRef) -> Path | None:
    """The CRL file the gateway is configured to serve (None: it checks no CRL)."""
    from workbench.migration.gateway_ops import sample_env

    gw = sample_env(campaign).current_gateway()
    if gw is None or not gw.spec.crl_file:
        return None
    return Path(gw.spec.crl_file)


def all_gateways(campaign: Campaign) -> list[GatewayRef]:
    """Every gateway the workspace knows (for CRL health); empty when none ever ran."""
    from workbench.migration.gateway_ops import sample_env

    gw = sample_env(campaign).current_gateway()
    if gw is None:
        return []
    return [GatewayRef("lab", "lab", gw.name, tuple(r.api_id for r in gw.spec.routes))]


def modes_of(campaign: Campaign, api_ids: Iterable[str]) -> dict[str, str]:
    """API id -> the mode its gateway serves it in now."""
    gw = _managed(campaign)
    return {a: gw.spec.route(a).mode for a in api_ids}


def _set_allowed(campaign: Campaign, api_ids: Iterable[str], change) -> str:
    gw = _managed(campaign)
    wanted = set(api_ids)
    old_spec = gw.spec
    routes = tuple(
        replace(r, allowed_identities=tuple(change(r.allowed_identities)))
        if r.api_id in wanted
        else r
        for r in old_spec.routes
    )
    if routes == old_spec.routes:
        return ""
    new_spec = replace(old_spec, routes=routes)
    rendered = gw.render(new_spec)
    gw.validate(rendered)
    try:
        gw.spec = new_spec
        gw.apply(rendered)
    except BaseException:
        gw.spec = old_spec
        gw.apply(gw.render(old_spec))
        raise
    return rendered.sha256


def authorise_identity(campaign: Campaign, api_ids: Iterable[str], identity: str) -> str:
    """Let ``identity`` call ``api_ids`` with a certificate (one reload); returns the
    config's SHA-256 ("" when nothing changed)."""
    return _set_allowed(campaign, api_ids, lambda ids: ids if identity in ids else (*ids, identity))


def revoke_authorisation(campaign: Campaign, api_ids: Iterable[str], identity: str) -> str:
    """Take ``identity`` off the allow lists of ``api_ids`` (one reload; "" when absent)."""
    return _set_allowed(campaign, api_ids, lambda ids: tuple(i for i in ids if i != identity))


def authorised_on(campaign: Campaign, identity: str) -> list[str]:
    """Every API whose gateway lets ``identity`` in with a certificate."""
    from workbench.migration.gateway_ops import sample_env

    gw = sample_env(campaign).current_gateway()
    if gw is None:
        return []
    return [r.api_id for r in gw.spec.routes if identity in r.allowed_identities]


def require_driven(refs: Iterable[GatewayRef]) -> None:
    """Refuse gateways the drill cannot push to by itself (none today)."""
    for ref in refs:
        if ref.kind not in ("lab", "nginx", "haproxy", "manual"):
            raise GatewayError(f"gateway {ref.id}: unknown kind {ref.kind}")
