"""The one place the drills meet the gateways: which gateway fronts an API, push the CRLs
to it, read the CRL it serves, and (for the canary) authorise an identity on a route.

Gateways are reached through the migration layer's gateway handles
(:func:`workbench.migration.gateway_ops.gateway_for`: the lab, nginx, HAProxy, manual); no
lab import here. A workbench without handles (older main) reaches the one managed gateway
through ``running_gateway``; both paths live here only, so the switch is one place.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from workbench.errors import GatewayError
from workbench.migration import gateway_ops
from workbench.migration.campaign import Campaign

__all__ = [
    "GatewayRef",
    "PushFn",
    "PushResult",
    "all_gateways",
    "authorise_identity",
    "authorised_on",
    "crl_file_of",
    "gateways_for",
    "modes_of",
    "manual_change_recorded",
    "push_crls",
    "record_manual_change",
    "revoke_authorisation",
]

HANDLES = hasattr(gateway_ops, "gateway_for")


@dataclass(frozen=True)
class GatewayRef:
    """A gateway in front of some of the drill's APIs."""

    id: str
    """Gateway id (``lab`` for the workspace's lab)."""
    kind: str
    """``lab``, ``nginx``, ``haproxy`` or ``manual``."""
    server: str
    """The software answering (``python``, ``nginx``, ``haproxy``; ``manual``: unknown)."""
    apis: tuple[str, ...]
    """The drill's APIs it fronts."""


@dataclass(frozen=True)
class PushResult:
    """One gateway told to re-read the CRLs."""

    gateway: str
    """Gateway id."""
    seconds: float
    """Write + validate + reload, until the gateway confirmed it (0 when not applied)."""
    applied: bool
    """False for a manual gateway: a person follows ``instructions`` and records it
    (``change``); the probes show when it took effect."""
    instructions: tuple[str, ...] = ()
    change: str | None = None
    """The change id the operator records with ``workbench gateway applied --gateway G
    --change ID`` (manual gateways only); the drill waits for that record."""
    steps_file: str | None = None
    """Where the steps were written (manual gateways only)."""


PushFn = Callable[[Campaign, GatewayRef], PushResult]


def _handle(campaign: Campaign, api_id: str):
    return gateway_ops.gateway_for(campaign, api_id)


def _lab_adapters(campaign: Campaign, ref: GatewayRef) -> list:
    """The lab's running gateway processes serving ``ref``'s APIs (one per port)."""
    if not HANDLES:
        return [gateway_ops.running_gateway(campaign)]
    env = _handle(campaign, ref.apis[0]).env
    out = []
    for api in ref.apis:
        gw = env.gateway_of(api)
        if gw is None or not gw.is_running():
            raise GatewayError(
                "no lab gateway is running for this workspace: `workbench sample-env up`"
            )
        if all(g.state_dir != gw.state_dir for g in out):
            out.append(gw)
    return out


def gateways_for(campaign: Campaign, api_ids: Iterable[str]) -> list[GatewayRef]:
    """The gateways fronting ``api_ids`` (each once, in first-seen order)."""
    apis = tuple(dict.fromkeys(api_ids))
    if not apis:
        return []
    if not HANDLES:
        return [GatewayRef("lab", "lab", gateway_ops.running_gateway(campaign).name, apis)]
    grouped: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for api in apis:
        h = _handle(campaign, api)
        grouped.setdefault(h.id, []).append(api)
        kinds[h.id] = h.kind
    refs = []
    for gid, mine in grouped.items():
        kind = kinds[gid]
        server = kind
        if kind == "lab":
            ref = GatewayRef(gid, kind, "lab", tuple(mine))
            server = ",".join(sorted({g.name for g in _lab_adapters(campaign, ref)}))
        refs.append(GatewayRef(gid, kind, server, tuple(mine)))
    return refs


def all_gateways(campaign: Campaign) -> list[GatewayRef]:
    """Every gateway the workspace drives (for CRL health); the lab only once it ran."""
    inv = campaign.inventory
    refs = []
    for g in getattr(inv, "gateways", ()):
        server = g.kind if g.kind != "manual" else "manual"
        refs.append(GatewayRef(g.id, g.kind, server, tuple(g.apis)))
    behind = {a for r in refs for a in r.apis}
    lab_apis = tuple(a.id for a in inv.apis if a.id not in behind)
    if lab_apis:
        # The lab never ran (or is down): nothing to report for it.
        with contextlib.suppress(GatewayError):
            refs.extend(gateways_for(campaign, lab_apis))
    return refs


def push_crls(campaign: Campaign, ref: GatewayRef) -> PushResult:
    """Make ``ref`` re-read the workspace CRLs (render + write + validate + reload +
    confirm); a manual gateway gets instructions instead."""
    started = time.monotonic()
    if ref.kind == "manual":
        return _manual_crl_steps(campaign, ref)
    if HANDLES and ref.kind != "lab":
        _handle(campaign, ref.apis[0]).push_crls()
    else:
        for gw in _lab_adapters(campaign, ref):
            rendered = gw.render(gw.spec)
            gw.validate(rendered)
            gw.apply(rendered)
    return PushResult(ref.id, round(time.monotonic() - started, 4), True)


def _manual_crl_steps(campaign: Campaign, ref: GatewayRef) -> PushResult:
    """Write the steps that install the new CRL on a manual gateway (audited)."""
    from workbench.drill.crlinfo import read_crl_file
    from workbench.drill.targets import entry_urls

    crl = (campaign.crl_dir / "crl.pem").resolve()
    number = read_crl_file(crl)["number"]
    change = f"crl-{number}"
    inv = campaign.inventory
    urls = [u for a in ref.apis for u in entry_urls(inv.api(a))]
    command = (
        f"workbench gateway applied --gateway {ref.id} --change {change} "
        f"--workspace {campaign.workspace.directory.resolve()}"
    )
    lines = [
        f"gateway {ref.id} (manual): install CRL number {number} (revocation drill)",
        f"1. copy {crl} (one CRL per CA of the chain) over the CRL file gateway {ref.id} "
        "checks client certificates against (nginx: ssl_crl; HAProxy: crl-file on the bind)",
        "2. validate the configuration (nginx -t / haproxy -c) and reload the gateway",
        f"3. check: the revoked certificates are refused at {', '.join(urls)}",
        f"4. record it: `{command}`",
    ]
    handle = _handle(campaign, ref.apis[0])
    path, sha = handle.write_steps(change, lines)
    ws = campaign.workspace
    with ws.transaction():
        ws.audit(
            "drill.manual_steps",
            ref.id,
            {
                "change": change,
                "steps_file": str(path),
                "steps_sha256": sha,
                "apis": list(ref.apis),
            },
        )
    return PushResult(
        ref.id, 0.0, False, (*lines, f"(saved in {path})"), change=change, steps_file=str(path)
    )


def manual_change_recorded(campaign: Campaign, ref: GatewayRef, change: str) -> dict | None:
    """The operator's record of ``change`` on manual gateway ``ref`` (None: not yet)."""
    return _handle(campaign, ref.apis[0]).change_recorded(change)


def record_manual_change(campaign: Campaign, gateway_id: str, change: str) -> dict:
    """``workbench gateway applied --gateway G --change ID``: the operator did the steps."""
    from workbench.drill.revoke import known_id

    gateways = {g.id: g for g in getattr(campaign.inventory, "gateways", ())}
    known_id("gateway", gateway_id, gateways)
    cfg = gateways[gateway_id]
    if cfg.kind != "manual" or not cfg.apis:
        raise GatewayError(
            f"gateway {gateway_id} is {cfg.kind}: the workbench applies its changes itself "
            "(`workbench gateway sync`); --change is for manual gateways"
        )
    record = _handle(campaign, cfg.apis[0]).record_change(change)
    ws = campaign.workspace
    with ws.transaction():
        ws.audit("gateway.applied", gateway_id, {"change": change, **record})
    return {"gateway": gateway_id, "change": change, **record}


def crl_file_of(campaign: Campaign, ref: GatewayRef) -> Path | None:
    """The CRL file the gateway is configured with (None: it checks none, or a person
    manages it: a manual gateway)."""
    if ref.kind == "manual":
        return None
    if ref.kind != "lab":
        crl = campaign.crl_dir / "crl.pem"  # operator gateways name the workspace's CRL
        return crl if crl.exists() else None
    files = {gw.spec.crl_file for gw in _lab_adapters(campaign, ref)}
    if None in files or not files:
        return None
    return Path(sorted(files)[0])


def modes_of(campaign: Campaign, api_ids: Iterable[str]) -> dict[str, str]:
    """API id -> the mode its gateway serves it in now."""
    if not HANDLES:
        gw = gateway_ops.running_gateway(campaign)
        return {a: gw.spec.route(a).mode for a in api_ids}
    return {a: _handle(campaign, a).current_mode(a) for a in api_ids}


def _set_allowed(campaign: Campaign, api_ids: Iterable[str], change) -> str:
    """Change the allow lists of ``api_ids`` on their gateways (one reload each): the lab's
    routes, or the extra identities an operator gateway's owned config renders."""
    wanted = tuple(dict.fromkeys(api_ids))
    refs = gateways_for(campaign, wanted)
    for ref in refs:
        if ref.kind == "manual":
            raise GatewayError(
                f"gateway {ref.id} is manual: a person would have to authorise the canary and "
                "take it off again on every run; run the canary on APIs behind the lab, nginx "
                "or HAProxy (--api), and `drill revoke` for the manual gateway"
            )
    sha = ""
    for ref in refs:
        if ref.kind != "lab":
            sha = _handle(campaign, ref.apis[0]).set_extra_identities(ref.apis, change) or sha
            continue
        for gw in _lab_adapters(campaign, ref):
            old_spec = gw.spec
            routes = tuple(
                replace(r, allowed_identities=tuple(change(r.allowed_identities)))
                if r.api_id in wanted
                else r
                for r in old_spec.routes
            )
            if routes == old_spec.routes:
                continue
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
            sha = rendered.sha256
    return sha


def authorise_identity(campaign: Campaign, api_ids: Iterable[str], identity: str) -> str:
    """Let ``identity`` call ``api_ids`` with a certificate; returns the last config's
    SHA-256 ("" when nothing changed)."""
    return _set_allowed(campaign, api_ids, lambda ids: ids if identity in ids else (*ids, identity))


def revoke_authorisation(campaign: Campaign, api_ids: Iterable[str], identity: str) -> str:
    """Take ``identity`` off the allow lists of ``api_ids`` ("" when it was on none)."""
    return _set_allowed(campaign, api_ids, lambda ids: tuple(i for i in ids if i != identity))


def authorised_on(campaign: Campaign, api_ids: Iterable[str], identity: str) -> list[str]:
    """Where ``identity`` is let in with a certificate: API ids among ``api_ids`` (an
    operator gateway's owned files are read, not its state), or ``gateway G (FILE)`` when
    its owned config names the identity outside any API's map."""
    out = []
    for ref in gateways_for(campaign, api_ids):
        if ref.kind == "manual":
            continue  # the workbench never authorises anything there
        if ref.kind != "lab":
            found = _handle(campaign, ref.apis[0]).identity_in_config(identity)
            hits = [a for a in ref.apis if a in found]
            out += hits or [f"gateway {ref.id} ({f})" for f in found.get("config", ())]
            continue
        for gw in _lab_adapters(campaign, ref):
            out += [r.api_id for r in gw.spec.routes if identity in r.allowed_identities]
    return sorted(set(out))
