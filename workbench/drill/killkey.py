"""``workbench drill kill-key``: retire a step's static key everywhere at once (incident).

For a step still in ``key`` or ``dual``: its consumers' certificates must already be in
place, or the command names who will break and wants ``force``. The key is probed before
(it must be accepted: two-sided), retired on the gateway fronting its API (a step still in
``key`` goes through ``dual`` first, so certificate holders keep working), watched until
every entry point address refuses it, and then the cut-over verifier runs on the step and
its verdict is recorded. There is no automatic rollback: re-enabling a compromised key is
a decision for a person (`workbench gateway set-mode dual --step K`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from workbench.drill import gateways as gws
from workbench.drill.probing import (
    DEFAULT_STABLE_AFTER,
    Point,
    key_credential,
    observe,
    summarise,
)
from workbench.drill.revoke import known_id
from workbench.drill.runner import (
    DEFAULT_DEADLINE,
    DrillReport,
    _entry_rows,
    _Watcher,
    verdict_of,
)
from workbench.drill.targets import api_entry_addresses
from workbench.errors import CutoverBlocked, InputError, WorkbenchError
from workbench.migration import gateway_ops
from workbench.migration.campaign import Campaign
from workbench.states import GatewayMode, StepState, Verdict

__all__ = ["kill_key", "who_breaks"]

KILLABLE_STATES = (StepState.ISSUED, StepState.DUAL, StepState.ROLLED_BACK)


def _wait_for_manual(campaign, ref, change, t0, deadline, clock, tell) -> float | None:
    """Write out the manual gateway's steps (audited) and poll for their record: seconds
    from ``t0`` until it arrived, None when the deadline passed first."""
    from workbench.drill.runner import MANUAL_POLL_S

    ws = campaign.workspace
    with ws.transaction():
        ws.audit(
            "drill.manual_steps",
            ref.id,
            {"change": f"{change.api}-{change.to_mode}", "steps_sha256": change.config_sha256},
        )
    for line in change.instructions:
        tell(f"gateway {ref.id}: {line}")
    tell(
        f"gateway {ref.id}: the drill waits up to {max(0.0, deadline - (clock() - t0)):.0f} s for "
        f"`workbench gateway applied --step {change.step} --mode mtls --workspace "
        f"{ws.directory.resolve()}`"
    )
    handle = gateway_ops.gateway_for(campaign, change.api)
    while True:
        if handle.route_recorded(change.api, change.to_mode, change.keys_accepted):
            return round(clock() - t0, 4)
        if clock() - t0 >= deadline:
            return None
        time.sleep(MANUAL_POLL_S)  # polling interval for a record another process writes


def who_breaks(campaign: Campaign, step_key: str) -> list[str]:
    """Consumers of the step's key without an active certificate for the step."""
    ws, inv = campaign.workspace, campaign.inventory
    have = {c.service for c in ws.active_certificates(step=step_key, kind="client")}
    return [s for s in inv.consumers_of(step_key) if s not in have]


def kill_key(
    campaign: Campaign,
    step_key: str,
    *,
    force: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    stable_after: int = DEFAULT_STABLE_AFTER,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] | None = None,
    steps: Callable[[str], None] | None = None,
    resolver=None,
) -> DrillReport:
    """Retire the key, prove it refused everywhere (not stored: see ``record_drill``).

    Behind a manual gateway the retirement is written as steps (``steps`` gets them) and
    the drill waits, probing, for ``workbench gateway applied --step K --mode mtls``."""
    from workbench.migration.gateway_ops import set_step_mode
    from workbench.migration.usage import old_key
    from workbench.migration.verification import verify_steps

    say = progress or (lambda _msg: None)
    ws, inv = campaign.workspace, campaign.inventory
    known_id("step", step_key, [s.key for s in ws.steps()])
    step = ws.step(step_key)
    key = inv.key(step_key)
    api = inv.api(key.api)
    mode = gws.modes_of(campaign, [api.id])[api.id]
    if step.state == StepState.PLANNED:
        raise InputError(
            f"step {step_key} is planned: none of its consumers holds a certificate; "
            f"`workbench issue --step {step_key}` first"
        )
    if step.state not in KILLABLE_STATES or mode not in (GatewayMode.KEY, GatewayMode.DUAL):
        raise InputError(
            f"step {step_key} is {step.state} and {api.id} serves {mode} mode: kill-key is for "
            "a step whose key is still accepted (key or dual, certificates issued)"
        )
    breaks = who_breaks(campaign, step_key)
    if breaks and not force:
        raise CutoverBlocked(
            f"step {step_key}: {', '.join(breaks)} ha{'s' if len(breaks) == 1 else 've'} no "
            f"certificate and will break when the key dies: `workbench issue --step "
            f"{step_key}` first, or --force"
        )
    secret = old_key(campaign, step_key)
    ca = campaign.ca_dir / "chain.pem"
    cred = key_credential(secret, key.header, ca)
    refs = gws.gateways_for(campaign, [api.id])
    manual = refs[0].kind == "manual"
    if manual and step.state == StepState.ISSUED:
        raise InputError(
            f"step {step_key} is issued and {api.id} is behind the manual gateway {refs[0].id}: "
            f"put it in dual first (`workbench gateway set-mode dual --step {step_key}`, then "
            f"`workbench gateway applied --step {step_key} --mode dual`)"
        )
    gw_of = {a: r.id for r in refs for a in r.apis}
    wheres = api_entry_addresses([api], **({"resolver": resolver} if resolver else {}))
    points = [Point(w, gw_of[w.api], cred) for w in wheres]
    failures: list[str] = []
    errors: list[str] = []

    say(f"before: the key at {len(points)} entry point address(es)")
    for p, (outcome, reason) in zip(points, asyncio.run(observe(points)), strict=True):
        if outcome != "ACCEPTED":
            errors.append(
                f"{p.where.label}: the key was not accepted before the kill ({outcome}, "
                f"{reason}): nothing to prove there"
            )
    started_at = campaign.now()
    t0 = clock()
    say(f"retiring {step_key} on gateway {', '.join(gw_of.values())}")
    if step.state == StepState.ISSUED:
        set_step_mode(
            campaign, step_key, GatewayMode.DUAL, reason="kill-key: overlap for certificate holders"
        )
    change = set_step_mode(
        campaign,
        step_key,
        GatewayMode.MTLS,
        reason="kill-key: incident response",
        pending_ok=manual,
    )
    change_s = round(clock() - t0, 4)
    say(f"watching {len(points)} point(s), deadline {deadline:g} s")
    watcher = _Watcher(points, t0=t0, deadline=deadline, stable_after=stable_after, clock=clock)
    watcher.start()
    applied_after = change_s
    if not change.applied:
        applied_after = _wait_for_manual(
            campaign, refs[0], change, t0, deadline, clock, steps or say
        )
        if applied_after is None:
            failures.append(
                f"gateway {refs[0].id} (manual): nobody recorded retiring the key (`workbench "
                f"gateway applied --step {step_key} --mode mtls`) within {deadline:g} s"
            )
    timings = watcher.result()
    for t in timings:
        if not t.refused:
            line = (
                f"{t.entry_point} @ {t.address} (gateway {t.gateway}) still did not refuse the "
                f"key after {deadline:g} s: last {t.last_outcome} ({t.last_reason})"
            )
            (failures if t.last_outcome == "ACCEPTED" else errors).append(line)
    say("verifying the step (two-sided, as for a cut-over)")
    verdict = None
    try:
        live = (
            None
            if any("before the kill" in e for e in errors)
            else f"kill-key drill: accepted at {len(points)} address(es) before the kill"
        )
        [result] = verify_steps(campaign, [step_key], seen_live={step_key: live} if live else None)
        verdict = result.verdict
        if verdict == Verdict.FAIL:
            failures.append(f"the cut-over verifier says FAIL for {step_key}")
        elif verdict != Verdict.PASS:
            errors.append(f"the cut-over verifier says {verdict} for {step_key}")
    except WorkbenchError as exc:
        errors.append(f"the cut-over verifier could not run: {exc}")
    entry_rows = _entry_rows(timings)
    stable = [e["stable_s"] for e in entry_rows if e["refused"]]
    gateways = tuple(
        {
            "id": r.id,
            "kind": r.kind,
            "server": r.server,
            "apis": list(r.apis),
            "push_s": change_s,
            "applied": applied_after is not None,
            "applied_after_s": applied_after,
            "crl": None,
            **summarise(stable),
        }
        for r in refs
    )
    return DrillReport(
        kind="kill-key",
        subject=step_key,
        verdict=verdict_of(failures, errors),
        failures=tuple(failures),
        errors=tuple(errors),
        started_at=started_at,
        finished_at=campaign.now(),
        deadline_s=deadline,
        revoked=(f"key fp={secret.fingerprint}",),
        crl_number=None,
        gateways=gateways,
        entry_points=tuple(entry_rows),
        timings=tuple(timings),
        checks={
            "verifier_verdict": verdict,
            "consumers_without_certificate": breaks,
            "state_after": ws.step(step_key).state,
        },
    )
