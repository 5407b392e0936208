"""``workbench drill canary``: the revoke drill on a throwaway identity, safe on a schedule.

A canary identity (``spiffe://<td>/drill/workbench-drill-canary``) gets two certificates:
the *canary*, which is revoked, and the *control*, which is not. Both are authorised on the
chosen APIs (one gateway reload), the drill runs with the canary as the credential to kill
and the control as the certificate that must survive, and then the authorisation is taken
away again (always, even when the drill fails) and proven gone: no route lists the identity
and the control certificate, still valid, is refused everywhere. The control stays active
between runs (reused; it is authorised nowhere); each run revokes a fresh canary.

On an operator's nginx or HAProxy the canary is one more identity in the owned config the
workbench renders (kept in its state file as the route's ``extra`` for the length of the
drill); "nothing left" is then read from the owned files themselves, not from the state.
A manual gateway is never chosen: authorising there would take a person twice per run.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import replace

from workbench.drill import gateways as gws
from workbench.drill.probing import Point, cert_credential, observe, summarise
from workbench.drill.revoke import known_id
from workbench.drill.runner import (
    CERT_MODES,
    DEFAULT_DEADLINE,
    DrillReport,
    RevokeOutcome,
    run_revocation_drill,
    verdict_of,
)
from workbench.drill.targets import api_entry_addresses
from workbench.errors import GatewayError, InputError
from workbench.migration.campaign import Campaign
from workbench.states import Verdict

__all__ = ["CANARY_NAME", "canary_drill", "canary_identity"]

CANARY_NAME = "workbench-drill-canary"
CANARY_ENV = "drill"
CANARY_SLOT = "drill-canary"
CONTROL_SLOT = "drill-canary-control"


def canary_identity(campaign: Campaign) -> str:
    return f"spiffe://{campaign.trust_domain}/{CANARY_ENV}/{CANARY_NAME}"


def _issue(campaign: Campaign, slot: str):
    from workbench.migration.verification import _issue_probe_cert

    return _issue_probe_cert(campaign, slot, CANARY_NAME, CANARY_ENV)


def _chosen_apis(campaign: Campaign, wanted: Sequence[str] | None) -> list:
    inv = campaign.inventory
    manual = {a for g in getattr(inv, "gateways", ()) if g.kind == "manual" for a in g.apis}
    modes = gws.modes_of(campaign, [a.id for a in inv.apis])
    if wanted:
        for api_id in wanted:
            known_id("API", api_id, inv.apis_by_id)
            if api_id in manual:
                raise InputError(
                    f"API {api_id} is behind a manual gateway: the canary needs a gateway the "
                    "workbench changes itself (lab, nginx, HAProxy); `workbench drill revoke` "
                    "writes the steps for a manual one"
                )
            if modes[api_id] not in CERT_MODES:
                raise InputError(
                    f"API {api_id} serves {modes[api_id]} mode, where a certificate is not "
                    "enough to be accepted: run the canary on an API in dual or mtls"
                )
        return [inv.api(a) for a in dict.fromkeys(wanted)]
    # A manual gateway is left out: authorising the canary there takes a person, twice a run.
    chosen = [a for a in inv.apis if modes[a.id] in CERT_MODES and a.id not in manual]
    if not chosen and any(modes[a] in CERT_MODES for a in manual):
        raise InputError(
            "only APIs behind manual gateways accept certificates: the canary needs a gateway "
            "the workbench changes itself (lab, nginx, HAProxy); `workbench drill revoke "
            "--service S` writes the steps for a manual one"
        )
    if not chosen:
        raise InputError(
            "no API accepts certificates yet: put a step in dual first "
            "(`workbench gateway set-mode dual --step KEY`)"
        )
    return chosen


def canary_drill(
    campaign: Campaign,
    *,
    apis: Sequence[str] | None = None,
    deadline: float = DEFAULT_DEADLINE,
    push: gws.PushFn = gws.push_crls,
    progress: Callable[[str], None] | None = None,
    **options,
) -> DrillReport:
    """Run the canary drill (not stored: see :func:`workbench.drill.store.record_drill`).

    A gateway that does not take the canary's authorisation (validate, reload or the
    confirmation failed: the owned files are restored) is a FAIL naming its entry points;
    so is one that keeps it afterwards. Both are audited."""
    from workbench.migration.revocation import revoke

    if deadline <= 0:
        raise InputError(f"--deadline {deadline:g}: give a positive number of seconds")
    say = progress or (lambda _msg: None)
    ws = campaign.workspace
    chosen = _chosen_apis(campaign, apis)
    api_ids = [a.id for a in chosen]
    identity = canary_identity(campaign)
    ca = campaign.ca_dir / "chain.pem"
    canary = _issue(campaign, CANARY_SLOT)
    control = _issue(campaign, CONTROL_SLOT)
    canary_cred = cert_credential(
        ws.directory / canary.chain_path, ws.directory / canary.key_path, ca
    )
    control_cred = cert_credential(
        ws.directory / control.chain_path,
        ws.directory / control.key_path,
        ca,
        label=f"canary control {identity} serial={control.serial}",
    )

    def do_revoke() -> RevokeOutcome:
        done, crl = revoke(campaign, serial=canary.serial, reason="keyCompromise")
        return RevokeOutcome(tuple(c.serial for c in done), crl.number if crl else 0)

    def audit(action: str, detail: dict) -> None:
        with ws.transaction():
            ws.audit(action, identity, {"apis": api_ids, **detail})

    say(f"authorising {identity} on {', '.join(api_ids)}")
    started_at = campaign.now()
    try:
        try:
            sha = gws.authorise_identity(campaign, api_ids, identity)
        except GatewayError as exc:
            audit("drill.canary_authorise_failed", {"error": str(exc)[:500]})
            # The canary never got in: it dies unused (a live credential left behind is not).
            outcome = do_revoke()
            report = _not_authorised(campaign, identity, chosen, exc, started_at, deadline, outcome)
        else:
            audit("drill.canary_authorise", {"config_sha256": sha})
            report = run_revocation_drill(
                campaign,
                kind="canary",
                subject=identity,
                apis=chosen,
                credentials=[canary_cred],
                controls=[control_cred],
                revoke=do_revoke,
                deadline=deadline,
                push=push,
                progress=progress,
                **options,
            )
    finally:
        with _ctrl_c_waits():  # stopped halfway, the control certificate stayed let in
            say(f"taking {identity} off {', '.join(api_ids)}")
            try:
                sha = gws.revoke_authorisation(campaign, api_ids, identity)
                audit("drill.canary_deauthorise", {"config_sha256": sha})
                left_error = None
            except GatewayError as exc:
                audit("drill.canary_deauthorise_failed", {"error": str(exc)[:500]})
                left_error = f"taking the canary's authorisation away failed: {exc}"
    if left_error:
        report = replace(report, failures=(*report.failures, left_error))
    return _prove_nothing_left(campaign, report, identity, chosen, control_cred)


@contextmanager
def _ctrl_c_waits():
    """ctrl+c (SIGINT) waits until the block is done, then interrupts: a KeyboardInterrupt
    in the middle of taking the canary off its gateways left it authorised (and unaudited).
    Signals reach the main thread only; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def _not_authorised(campaign, identity, apis, exc, started_at, deadline, outcome) -> DrillReport:
    """The FAIL report of a canary its gateway would not let in: every entry point named."""
    refs = gws.gateways_for(campaign, [a.id for a in apis])
    gw_of = {a: r.id for r in refs for a in r.apis}
    wheres = api_entry_addresses(apis)
    failures = [
        f"{w.label} (gateway {gw_of[w.api]}): the canary could not be authorised, so nothing "
        f"about revocation was shown there: {exc}"
        for w in wheres
    ]
    entries = tuple(
        {
            "gateway": gw_of[w.api],
            "api": w.api,
            "entry_point": w.entry_point,
            "address": w.address,
            "first_refusal_s": None,
            "stable_s": None,
            "refused": False,
            "probes": 0,
            "last_outcome": "NOT_AUTHORISED",
        }
        for w in wheres
    )
    rows = tuple(
        {
            "id": r.id,
            "kind": r.kind,
            "server": r.server,
            "apis": list(r.apis),
            "push_s": None,
            "applied": False,
            "crl": None,
            **summarise([]),
        }
        for r in refs
    )
    return DrillReport(
        kind="canary",
        subject=identity,
        verdict=Verdict.FAIL,
        failures=tuple(failures),
        errors=(),
        started_at=started_at,
        finished_at=campaign.now(),
        deadline_s=deadline,
        revoked=outcome.serials,
        crl_number=outcome.crl_number,
        gateways=rows,
        entry_points=entries,
        timings=(),
        checks={"authorise_error": str(exc)},
    )


def _prove_nothing_left(campaign, report: DrillReport, identity, apis, control) -> DrillReport:
    """No route lists the identity, and its valid control certificate is refused everywhere."""
    failures, errors = list(report.failures), list(report.errors)
    left = gws.authorised_on(campaign, [a.id for a in campaign.inventory.apis], identity)
    if left:
        failures.append(f"the canary is still authorised on {', '.join(left)}")
    refs = {a: r.id for r in gws.gateways_for(campaign, [a.id for a in apis]) for a in r.apis}
    points = [Point(w, refs[w.api], control) for w in api_entry_addresses(apis)]
    seen = [asyncio.run(observe(points)) for _ in range(2)]
    rows = []
    for i, p in enumerate(points):
        outcomes = [s[i] for s in seen]
        rows.append({"entry_point": p.where.label, "outcomes": [o for o, _ in outcomes]})
        if any(o == "ACCEPTED" for o, _ in outcomes):
            failures.append(f"{p.where.label}: the canary's control certificate is still accepted")
        elif any(o != "REFUSED" for o, _ in outcomes):
            bad = next(o for o in outcomes if o[0] != "REFUSED")
            errors.append(f"{p.where.label}: cannot show the canary refused ({bad[0]}, {bad[1]})")
    checks = dict(report.checks, authorisation_left=left, control_after_deauthorise=rows)
    return replace(
        report,
        verdict=verdict_of(failures, errors),
        failures=tuple(failures),
        errors=tuple(errors),
        checks=checks,
    )
