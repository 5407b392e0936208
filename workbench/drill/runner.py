"""One revocation drill, whatever is revoked: prove before, revoke, push, watch, judge.

1. **Before**: every credential to be revoked is probed once at every entry point address
   and must be *accepted* there (two-sided: a refusal afterwards then means something);
   the controls (good credentials that must survive) likewise.
2. **Revoke** (the caller's function: revoke in the workspace and publish the CRLs) at
   ``t0``, then **push** the CRLs to every gateway in front of the APIs. A manual gateway
   gets written steps instead, and the drill waits (polling, until the deadline) for the
   operator's record of them (``workbench gateway applied --gateway G --change ID``); no
   record by the deadline is a FAIL naming the gateway.
3. **Stale CRL**: each gateway's CRL file must carry the new CRL number and a nextUpdate
   still in the future.
4. **Watch** (:func:`workbench.drill.probing.watch`) until every point is stably refused
   or the deadline passes.
5. **After**: the controls are still accepted everywhere (a CRL that rejects good
   certificates fails the drill), no other certificate changed status, and every route
   serves the mode it served before.

PASS only when all of that holds. A credential still accepted at the deadline is FAIL
naming the entry point; an entry point that never answered decisively is ERROR.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workbench.drill import gateways as gws
from workbench.drill.probing import (
    DEFAULT_STABLE_AFTER,
    Credential,
    Point,
    Timing,
    observe,
    summarise,
    watch,
)
from workbench.drill.targets import EntryAddress, api_entry_addresses
from workbench.errors import GatewayError, WorkbenchError
from workbench.migration.campaign import Campaign
from workbench.states import GatewayMode, Verdict

__all__ = ["DrillReport", "RevokeOutcome", "run_revocation_drill", "verdict_of"]

DEFAULT_DEADLINE = 60.0
CERT_MODES = (GatewayMode.DUAL, GatewayMode.MTLS)


@dataclass(frozen=True)
class RevokeOutcome:
    """What the caller's revoke function did."""

    serials: tuple[str, ...]
    """Serials revoked."""
    crl_number: int
    """Number of the CRLs published."""


@dataclass(frozen=True)
class DrillReport:
    """A drill's result: the verdict, why, and every figure (see the package docstring)."""

    kind: str
    """``revoke``, ``canary`` or ``kill-key``."""
    subject: str
    """The service (revoke), the canary identity, or the step (kill-key)."""
    verdict: Verdict
    """``PASS``, ``FAIL`` or ``ERROR``."""
    failures: tuple[str, ...]
    """What failed (a credential still accepted, a good one refused, a stale CRL ...), one
    line each naming the entry point or gateway."""
    errors: tuple[str, ...]
    """What could not be shown (no answer, not accepted before): not a PASS either."""
    started_at: datetime
    finished_at: datetime
    deadline_s: float
    revoked: tuple[str, ...]
    """Serials revoked (or the key fingerprint retired, for kill-key)."""
    crl_number: int | None
    gateways: tuple[dict, ...]
    """Per gateway: id, kind, server, apis, push_s, crl (number, this/next update), the
    median and worst time-to-refusal (s) over its entry points."""
    entry_points: tuple[dict, ...]
    """Per entry point address: gateway, api, entry_point, address, first_refusal_s,
    stable_s (the slowest credential there), refused, probes, last outcome."""
    timings: tuple[Timing, ...]
    """Per credential and entry point address."""
    controls: tuple[dict, ...] = ()
    """Good credentials that had to stay accepted, and what they got."""
    checks: dict = field(default_factory=dict)
    """Other checks: untouched certificates, unchanged modes, canary authorisation left."""
    revoke_s: float | None = None
    """Seconds the revocation itself took (workspace + CRL signing, which unlocks the CA key
    each time): part of every time-to-refusal, as in a real incident."""
    id: int | None = None
    """Row id once stored (:func:`workbench.drill.store.record_drill`)."""

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it is not a PASS: failures first, then errors."""
        return self.failures + self.errors

    @property
    def slowest(self) -> dict | None:
        """The entry point that took longest to refuse (None when none refused)."""
        done = [e for e in self.entry_points if e["stable_s"] is not None]
        return max(done, key=lambda e: e["stable_s"]) if done else None


def verdict_of(failures: Sequence[str], errors: Sequence[str]) -> Verdict:
    """FAIL beats ERROR beats PASS."""
    if failures:
        return Verdict.FAIL
    if errors:
        return Verdict.ERROR
    return Verdict.PASS


def _points(wheres: Sequence[EntryAddress], creds: Sequence[Credential], gw_of) -> list[Point]:
    return [Point(w, gw_of[w.api], c) for c in creds for w in wheres]


def _crl_state(campaign: Campaign, ref: gws.GatewayRef) -> dict | None:
    from workbench.drill.crlinfo import read_crl_file

    path = gws.crl_file_of(campaign, ref)
    return None if path is None else read_crl_file(path)


def run_revocation_drill(
    campaign: Campaign,
    *,
    kind: str,
    subject: str,
    apis: Sequence,
    credentials: Sequence[Credential],
    revoke: Callable[[], RevokeOutcome],
    controls: Sequence[Credential] = (),
    deadline: float = DEFAULT_DEADLINE,
    push: gws.PushFn = gws.push_crls,
    stable_after: int = DEFAULT_STABLE_AFTER,
    clock: Callable[[], float] = time.monotonic,
    wallclock: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Callable[[str], None] | None = None,
    steps: Callable[[str], None] | None = None,
    resolver=None,
) -> DrillReport:
    """Run steps 1-5 of the module docstring and judge them. ``clock`` times the probes;
    ``wallclock`` is the gateways' time, against which a CRL's nextUpdate is judged.
    ``steps`` gets the lines a person must follow on a manual gateway (default: progress)."""
    say = progress or (lambda _msg: None)
    tell = steps or say
    failures: list[str] = []
    errors: list[str] = []
    all_ids = [a.id for a in apis]
    modes_before = gws.modes_of(campaign, all_ids)
    # Only a route that accepts a certificate can show it accepted before and refused after;
    # in `key` mode a certificate is ignored, and `mtls+token` also wants a bound token.
    not_probed = {a: f"serves {m} mode" for a, m in modes_before.items() if m not in CERT_MODES}
    apis = [a for a in apis if a.id not in not_probed]
    if not apis:
        errors.append(
            "no API here accepts a certificate yet (all in "
            f"{', '.join(sorted(set(modes_before.values())))} mode): nothing to prove"
        )
    api_ids = [a.id for a in apis]
    refs = gws.gateways_for(campaign, api_ids)
    gw_of = {a: r.id for r in refs for a in r.apis}
    wheres = api_entry_addresses(apis, **({"resolver": resolver} if resolver else {}))
    campaign.ca()  # unlock the CA now: its KDF is not part of the time to refusal
    statuses_before = {c.serial: c.status for c in campaign.workspace.certificates()}

    say(f"before: {len(credentials)} credential(s) x {len(wheres)} entry point address(es)")
    points = _points(wheres, credentials, gw_of)
    control_points = _points(wheres, controls, gw_of)
    before = asyncio.run(observe([*points, *control_points]))
    for p, (outcome, reason) in zip(points, before, strict=False):
        if outcome != "ACCEPTED":
            errors.append(
                f"{p.where.label}: {p.credential.label} was not accepted before the drill "
                f"({outcome}, {reason}): nothing to prove there"
            )
    # A control that was not accepted before proves nothing afterwards: left out, and said.
    control_before = before[len(points) :]
    dropped = [
        p.credential.label + " at " + p.where.label
        for p, (o, _) in zip(control_points, control_before, strict=True)
        if o != "ACCEPTED"
    ]
    control_points = [
        p for p, (o, _) in zip(control_points, control_before, strict=True) if o == "ACCEPTED"
    ]

    started_at = campaign.now()
    t0 = clock()
    say("revoking and publishing the CRLs")
    outcome = revoke()
    revoke_s = round(clock() - t0, 4)
    # The watch starts now, beside the pushes (it touches no workspace state, only sockets):
    # a push that hangs or a gateway reloaded by hand must not eat the deadline unwatched.
    say(f"watching {len(points)} point(s), deadline {deadline:g} s")
    watcher = _Watcher(points, t0=t0, deadline=deadline, stable_after=stable_after, clock=clock)
    watcher.start()
    pushes: dict[str, dict] = {}
    waiting: dict[str, tuple[gws.GatewayRef, str]] = {}
    for ref in refs:
        say(f"pushing the CRLs to gateway {ref.id}")
        try:
            res = push(campaign, ref)
            pushes[ref.id] = {
                "push_s": res.seconds,
                "applied": res.applied,
                "instructions": list(res.instructions),
            }
            if res.change:
                pushes[ref.id].update(change=res.change, steps_file=res.steps_file)
                waiting[ref.id] = (ref, res.change)
            for line in res.instructions:
                tell(f"gateway {ref.id}: {line}")
        except WorkbenchError as exc:
            failures.append(f"gateway {ref.id}: the CRL push failed: {exc}")
            pushes[ref.id] = {"push_s": None, "applied": False}
    if waiting:
        tell(
            f"waiting up to {max(0.0, deadline - (clock() - t0)):.0f} s for "
            + ", ".join(
                f"`gateway applied --gateway {g} --change {c}`" for g, (_, c) in waiting.items()
            )
        )
    for gid, seconds in _wait_for_records(campaign, waiting, t0, deadline, clock).items():
        ref, change = waiting[gid]
        pushes[gid]["applied"] = seconds is not None
        pushes[gid]["applied_after_s"] = seconds
        if seconds is None:
            failures.append(
                f"gateway {gid} (manual): nobody recorded the steps of change {change} "
                f"(`workbench gateway applied --gateway {gid} --change {change}`) within "
                f"{deadline:g} s"
            )
    crls = {}
    # A gateway judges a CRL by its own clock, not by the signer's: a CRL signed by a clock
    # that runs behind can be past its nextUpdate the moment it arrives.
    now = wallclock()
    for ref in refs:
        state = _crl_state(campaign, ref)
        crls[ref.id] = state
        if ref.kind == "manual":
            continue  # a person manages its CRL file: the probes are the only evidence
        if state is None:
            failures.append(f"gateway {ref.id} checks no CRL: a revoked certificate stays valid")
        elif state["number"] < outcome.crl_number or state["next_update"] <= now:
            failures.append(
                f"gateway {ref.id} serves a stale CRL (number {state['number']}, nextUpdate "
                f"{state['next_update'].isoformat()}; published {outcome.crl_number})"
            )

    timings = watcher.result()
    for t in timings:
        if t.refused:
            continue
        where = t.entry_point if t.address in t.entry_point else f"{t.entry_point} @ {t.address}"
        line = (
            f"{where} (gateway {t.gateway}) did not refuse {t.credential} within "
            f"{deadline:g} s: last {t.last_outcome} ({t.last_reason})"
        )
        (failures if t.last_outcome == "ACCEPTED" else errors).append(line)

    control_rows = _check_controls(control_points, stable_after, failures, errors)
    checks = _check_untouched(campaign, statuses_before, outcome, modes_before, all_ids, failures)
    checks["not_probed"] = not_probed
    checks["controls_not_usable"] = dropped
    finished_at = campaign.now()
    entry_rows = _entry_rows(timings)
    gateway_rows = []
    for ref in refs:
        mine = [e["stable_s"] for e in entry_rows if e["gateway"] == ref.id and e["refused"]]
        crl = crls.get(ref.id)
        gateway_rows.append(
            {
                "id": ref.id,
                "kind": ref.kind,
                "server": ref.server,
                "apis": list(ref.apis),
                **pushes.get(ref.id, {"push_s": None, "applied": False}),
                "crl": None
                if crl is None
                else {k: crl[k] for k in ("number", "this_update", "next_update")},
                **summarise(mine),
            }
        )
    return DrillReport(
        kind=kind,
        subject=subject,
        verdict=verdict_of(failures, errors),
        failures=tuple(failures),
        errors=tuple(errors),
        started_at=started_at,
        finished_at=finished_at,
        deadline_s=deadline,
        revoked=outcome.serials,
        crl_number=outcome.crl_number,
        gateways=tuple(gateway_rows),
        entry_points=tuple(entry_rows),
        timings=tuple(timings),
        controls=tuple(control_rows),
        checks=checks,
        revoke_s=revoke_s,
    )


MANUAL_POLL_S = 0.2
"""How often the record of a manual change is looked for (a person takes minutes)."""


def _wait_for_records(campaign, waiting, t0, deadline, clock) -> dict[str, float | None]:
    """Gateway id -> seconds from ``t0`` until the operator recorded its change (None: not
    within the deadline). Polls the record; the probes go on meanwhile in the watcher."""
    seen: dict[str, float | None] = {gid: None for gid in waiting}
    while True:
        for gid, (ref, change) in waiting.items():
            if seen[gid] is None and gws.manual_change_recorded(campaign, ref, change):
                seen[gid] = round(clock() - t0, 4)
        if all(v is not None for v in seen.values()) or clock() - t0 >= deadline:
            return seen
        time.sleep(MANUAL_POLL_S)  # polling interval for a record another process writes


class _Watcher(threading.Thread):
    """:func:`watch` on its own event loop in a thread; ``result()`` joins it."""

    def __init__(self, points, **kwargs) -> None:
        super().__init__(name="drill-watch", daemon=True)
        self._points, self._kwargs = points, kwargs
        self._timings: list[Timing] | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._timings = asyncio.run(watch(self._points, **self._kwargs))
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self) -> list[Timing]:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._timings is not None
        return self._timings


def _entry_rows(timings: Sequence[Timing]) -> list[dict]:
    """One row per (entry point, address): the slowest credential there."""
    rows: dict[tuple[str, str], dict] = {}
    for t in timings:
        key = (t.entry_point, t.address)
        row = rows.setdefault(
            key,
            {
                "gateway": t.gateway,
                "api": t.api,
                "entry_point": t.entry_point,
                "address": t.address,
                "first_refusal_s": t.first_refusal_s,
                "stable_s": t.stable_s,
                "refused": t.refused,
                "probes": 0,
                "last_outcome": t.last_outcome,
            },
        )
        row["probes"] += t.probes
        if not t.refused:
            row["refused"], row["stable_s"], row["last_outcome"] = False, None, t.last_outcome
        elif row["refused"]:
            row["stable_s"] = max(row["stable_s"], t.stable_s)
        if t.first_refusal_s is None or row["first_refusal_s"] is None:
            row["first_refusal_s"] = None
        else:
            row["first_refusal_s"] = max(row["first_refusal_s"], t.first_refusal_s)
    return list(rows.values())


def _check_controls(points, repeats: int, failures: list[str], errors: list[str]) -> list[dict]:
    if not points:
        return []
    rows = []
    results = [asyncio.run(observe(points)) for _ in range(repeats)]
    for i, p in enumerate(points):
        seen = [r[i] for r in results]
        bad = [s for s in seen if s[0] != "ACCEPTED"]
        rows.append(
            {
                "credential": p.credential.label,
                "entry_point": p.where.label,
                "outcomes": [s[0] for s in seen],
            }
        )
        if bad:
            line = (
                f"{p.where.label}: good credential {p.credential.label} is not accepted after "
                f"the CRL push ({bad[0][0]}, {bad[0][1]})"
            )
            (failures if bad[0][0] == "REFUSED" else errors).append(line)
    return rows


def _check_untouched(campaign, before, outcome, modes_before, api_ids, failures) -> dict:
    after = {c.serial: c.status for c in campaign.workspace.certificates()}
    revoked = set(outcome.serials)
    changed = sorted(
        s for s, status in after.items() if s not in revoked and before.get(s, status) != status
    )
    if changed:
        failures.append(f"certificates other than the revoked ones changed: {', '.join(changed)}")
    try:
        modes_after = gws.modes_of(campaign, api_ids)
    except GatewayError as exc:
        failures.append(f"cannot read the gateway modes after the drill: {exc}")
        modes_after = {}
    moved = sorted(a for a in api_ids if modes_after.get(a) != modes_before.get(a))
    if moved:
        failures.append(f"routes changed mode during the drill: {', '.join(moved)}")
    return {
        "other_certificates_changed": changed,
        "other_certificates_checked": len(after) - len(revoked),
        "modes_before": modes_before,
        "modes_after": modes_after,
    }
