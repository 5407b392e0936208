"""Gateway changes for a step, on whatever gateway fronts its API (a handle passed in).

The unit of retirement is a key, but gateway modes are per API and an API may accept several
keys (payments-api takes pay-key-prod and fraud-key). So cutting over one step removes only
its key from the route: the route becomes ``mtls`` once no key is left, and stays ``dual``
for the other keys' consumers until then.

The gateway is reached through a :class:`~workbench.gateway.handle.GatewayHandle` made by the
campaign's ``gateway_kinds`` (nginx, haproxy and manual from the core; the lab is plugged in
by the front ends). A handle applies a change all-or-nothing and calls back ``commit`` once
the running gateway serves it: the audit record and the step state are written in that
callback's transaction; if it fails, the handle restores the previous config (req. 25). A
refused change (validate, reload or confirmation failed) is audited as
``gateway.change_failed`` and re-raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.errors import GatewayError, InputError
from workbench.gateway.handle import AppliedChange, GatewayHandle, ManualApplication
from workbench.gateway.spec import MODES
from workbench.migration.campaign import Campaign
from workbench.states import CERTIFICATE_ONLY_MODES, KEY_RETIRED_STATES, GatewayMode, StepState

FAULTS = ("old-key-left-enabled",)


@dataclass(frozen=True)
class ModeChange:
    """One gateway change for a step (applied, or written as instructions for a person)."""

    step: str
    api: str
    from_mode: str
    to_mode: str
    keys_accepted: tuple[str, ...]
    """Key ids the route still accepts after the change."""
    config_sha256: str
    gateway: str = "lab"
    """Id of the gateway that fronts the API."""
    applied: bool = True
    """False for a ``manual`` gateway: ``instructions`` say what to do, then run
    ``workbench gateway applied --step K --mode M``."""
    instructions: tuple[str, ...] = ()


def gateway_for(campaign: Campaign, api_id: str) -> GatewayHandle:
    """The handle of the gateway fronting ``api_id`` (the lab unless the inventory says)."""
    cfg = campaign.inventory.gateway_of(api_id)
    kind, gid = (cfg.kind, cfg.id) if cfg else ("lab", "lab")
    cached = campaign.gateway_handles.get(gid)
    if cached is not None:
        return cached
    factory = campaign.gateway_kinds.get(kind)
    if factory is None:
        raise GatewayError(
            f"API {api_id} is behind a {kind} gateway, which this front end does not provide: "
            "use the workbench CLI (it plugs the lab in), or declare the API's gateway in the "
            "inventory's gateways: section"
        )
    handle = factory(campaign, cfg)
    campaign.gateway_handles[gid] = handle
    return handle


def current_mode(campaign: Campaign, api_id: str) -> str | None:
    """The mode ``api_id`` is served in now (None when its gateway has never run)."""
    try:
        return gateway_for(campaign, api_id).current_mode(api_id)
    except GatewayError:
        return None


def access_log(campaign: Campaign, api_id: str | None = None) -> Path:
    """The access log of the gateway fronting ``api_id`` (default: the lab's)."""
    if api_id is None:
        api_id = campaign.inventory.apis[0].id if campaign.inventory.apis else ""
    return gateway_for(campaign, api_id).access_log()


def push_crls(campaign: Campaign) -> list[str]:
    """Every driven gateway re-reads the workspace CRLs (write + validate + reload); returns
    the ids of the gateways that did. A manual gateway is skipped (its ticket says how)."""
    done: list[str] = []
    seen: set[str] = set()
    for api in campaign.inventory.apis:
        cfg = campaign.inventory.gateway_of(api.id)
        gid = cfg.id if cfg else "lab"
        if gid in seen or (cfg is not None and cfg.kind == "manual"):
            continue
        seen.add(gid)
        try:
            handle = gateway_for(campaign, api.id)
        except GatewayError:
            continue
        handle.push_crls()
        done.append(gid)
    return done


def _route_after(campaign: Campaign, step_key: str, mode: str, fault: str | None):
    ws, inv = campaign.workspace, campaign.inventory
    api = inv.key(step_key).api
    api_keys = [k.id for k in inv.keys if k.api == api]
    retired = {s.key for s in ws.steps() if s.key in api_keys and s.state in KEY_RETIRED_STATES}
    if mode in CERTIFICATE_ONLY_MODES:
        retired.add(step_key)
    else:
        retired.discard(step_key)
    if fault == "old-key-left-enabled":
        retired.discard(step_key)
    remaining = tuple(k for k in api_keys if k not in retired)
    if mode == GatewayMode.MTLS_TOKEN and remaining:
        raise GatewayError(
            f"{api} still accepts {', '.join(remaining)}: retire those keys before requiring "
            "bound tokens (mtls+token)"
        )
    if mode in (GatewayMode.KEY, GatewayMode.MTLS_TOKEN):
        route_mode = mode
    else:
        route_mode = GatewayMode.DUAL if remaining else GatewayMode.MTLS
    return api, route_mode, remaining


def set_step_mode(
    campaign: Campaign,
    step_key: str,
    mode: str,
    *,
    fault: str | None = None,
    reason: str | None = None,
    pending_ok: bool = False,
) -> ModeChange:
    """Put a step's API in ``mode`` for this step's key: key, dual (overlap), mtls (cut over) or
    mtls+token (certificate and a certificate-bound access token, once no key is left).

    ``fault="old-key-left-enabled"`` simulates the classic operator error (the key is not
    removed at cut-over) so the verifier's FAIL and the rollback can be rehearsed.

    On a ``manual`` gateway nothing is applied: the change comes back as instructions
    (``applied=False``). Tightening (to mtls) that way raises :class:`ManualApplication`
    unless ``pending_ok`` (the CLI's ``gateway set-mode``): ``cutover`` must only verify a
    change the operator recorded with ``gateway applied``.
    """
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if fault is not None and fault not in FAULTS:
        raise InputError(f"unknown fault {fault!r}: use one of {', '.join(FAULTS)}")
    ws = campaign.workspace
    step = ws.step(step_key)
    api, route_mode, remaining = _route_after(campaign, step_key, mode, fault)
    target_state = _target_state(step.state, mode)
    handle = gateway_for(campaign, api)
    from_mode = handle.current_mode(api)

    def commit(sha256: str) -> None:
        with ws.transaction():
            ws.record_gateway_change(api, from_mode, route_mode, sha256, step_key=step_key)
            if target_state and step.state != target_state:
                ws.set_step_state(
                    step_key,
                    target_state,
                    reason=reason or f"gateway {api}: {from_mode} -> {route_mode}",
                )

    try:
        applied: AppliedChange = handle.change_route(api, route_mode, remaining, commit=commit)
    except ManualApplication:
        raise
    except GatewayError as exc:
        _audit_failure(campaign, handle, api, from_mode, route_mode, step_key, exc)
        raise
    if applied.instructions and mode in CERTIFICATE_ONLY_MODES and not pending_ok:
        raise ManualApplication(
            f"API {api} is behind the manual gateway {handle.id}: apply the instructions "
            f"(`workbench gateway set-mode {mode} --step {step_key}` prints them), record them "
            f"with `workbench gateway applied --step {step_key} --mode {mode}`, then cut over"
        )
    return ModeChange(
        step_key,
        api,
        applied.from_mode,
        applied.to_mode,
        remaining,
        applied.config_sha256,
        gateway=handle.id,
        applied=not applied.instructions,
        instructions=applied.instructions,
    )


def record_applied(campaign: Campaign, step_key: str, mode: str) -> ModeChange:
    """``workbench gateway applied``: the operator applied a manual gateway's change by hand."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    api = campaign.inventory.key(step_key).api
    handle = gateway_for(campaign, api)
    if handle.kind != "manual":
        raise InputError(
            f"{api} is behind the {handle.kind} gateway {handle.id}, which the workbench "
            f"changes itself: use `workbench gateway set-mode {mode} --step {step_key}`"
        )
    handle.mark_applied(api, step_key, mode)  # type: ignore[attr-defined]
    return set_step_mode(campaign, step_key, mode, reason=f"applied by hand: {mode}")


def _audit_failure(campaign, handle, api, from_mode, to_mode, step_key, exc) -> None:
    ws = campaign.workspace
    with ws.transaction():
        ws.audit(
            "gateway.change_failed",
            api,
            {
                "gateway": handle.id,
                "kind": handle.kind,
                "step": step_key,
                "from_mode": from_mode,
                "to_mode": to_mode,
                "error": str(exc)[:500],
            },
        )


def _target_state(current: str, mode: str) -> str | None:
    """The step state a mode change implies (None: the state does not move)."""
    if mode in CERTIFICATE_ONLY_MODES:
        if current == StepState.VERIFIED:
            return StepState.CUT_OVER  # a changed gate must be verified again before it counts
        if current not in (StepState.DUAL, StepState.ROLLED_BACK, StepState.CUT_OVER):
            raise GatewayError(
                f"step is {current}: put it in dual first (`workbench gateway set-mode dual "
                "--step ...`) and check usage before cutting over"
            )
        return StepState.CUT_OVER
    if current == StepState.PLANNED:
        raise GatewayError("step is planned: issue its certificates first (`workbench issue`)")
    if mode == GatewayMode.DUAL:
        if current in KEY_RETIRED_STATES:
            return StepState.ROLLED_BACK
        return StepState.DUAL if current == StepState.ISSUED else None
    return None


def token_endpoint(campaign: Campaign, api_id: str) -> str:
    """The token endpoint of the authorization server in front of ``api_id``'s gateway."""
    return gateway_for(campaign, api_id).token_endpoint()


def token_events_log(campaign: Campaign) -> Path | None:
    """The lab authorization server's event log, if there is one."""
    for api in campaign.inventory.apis:
        try:
            log = gateway_for(campaign, api.id).token_events_log()
        except GatewayError:
            continue
        if log is not None:
            return log
    return None
