"""`workbench verify --step/--wave` and `workbench cutover`, on a workspace.

The probe identities come from the workspace (:mod:`workbench.migration.probe_identities`).

A step becomes ``verified`` only with a recorded PASS newer than its cut-over and its latest
gateway change (req. 13, 32). The proof is two-sided: ``cutover`` first probes the very old
key value it holds and must see it accepted (else ERROR, nothing changed); a later ``verify``
relies on that recorded before-observation of the same fingerprint and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from workbench.errors import GatewayError, VerifyError
from workbench.migration.campaign import Campaign
from workbench.migration.probe_identities import (  # noqa: F401 - the public names of this room
    OUTSIDER,
    PROBES_DIR,
    _issue_probe_cert,
    canary_service,
    is_revoke_only,
    outsider_identity,
    prepare_revocation_canaries,
    probe_url,
    require_health_path,
    route_mode,
    step_job,
)
from workbench.states import VERDICTS_WORST_FIRST, GatewayMode, StepState, Verdict
from workbench.verify.reading import VerdictReading


@dataclass(frozen=True)
class StepVerdict:
    """A step's verification: the verdict document and what it did to the step."""

    step: str
    document: dict
    """The verdict document (see ``workbench.verify.verdict_document``)."""
    state: StepState
    """The step's state afterwards."""

    @property
    def verdict(self) -> Verdict:
        return Verdict(self.document["verdict"])

    @property
    def reading(self) -> VerdictReading:
        """The document, typed (what the CLI and the TUI print)."""
        return VerdictReading.from_document(self.document, step=self.step)


def before_observation(campaign: Campaign, step_key: str, fingerprint: str) -> dict | None:
    """The latest recorded before-observation that saw this very old key value accepted."""
    for row in reversed(campaign.workspace.verdicts(step_key)):
        if row.old_key_fingerprint != fingerprint:
            continue
        before = VerdictReading.from_row(row).before
        if before and before.get("confirmed") and before.get("old_key_fingerprint") == fingerprint:
            return {**before, "verdict_id": row.id}
    return None


def _attach_liveness(
    doc: dict, campaign: Campaign, step_key: str, fp: str, before, seen_live: str | None = None
) -> None:
    """Say what the run relies on for "the old value was live"; without a before-observation
    of the same value a refusal proves nothing, so a PASS becomes INCONCLUSIVE."""
    if seen_live is not None:  # the caller observed this very value accepted just before
        doc["liveness"] = {"confirmed": True, "how": seen_live}
        return
    if before is not None:
        doc["before"] = before
        doc["liveness"] = {
            "confirmed": True,
            "how": f"old key fp={fp} was accepted just before the change, at "
            f"{len(before['probes'])} address(es) (this run's before-observation)",
        }
        return
    seen = before_observation(campaign, step_key, fp)
    if seen is not None:
        doc["liveness"] = {
            "confirmed": True,
            "how": f"relies on the recorded before-observation of the same old key value "
            f"(fp={fp}): accepted at {seen['started']} (verdict {seen['verdict_id']})",
            "verdict_id": seen["verdict_id"],
        }
        return
    doc["liveness"] = {
        "confirmed": False,
        "how": f"no recorded before-observation of old key fp={fp}: the workbench never saw "
        "this value accepted, so its refusal proves nothing (cut over with `workbench "
        "cutover`, which probes the value before changing the gateway)",
    }
    if doc["verdict"] == Verdict.PASS:
        doc["verdict"] = Verdict.INCONCLUSIVE
        doc["reasons"].append(doc["liveness"]["how"])


def record(
    campaign: Campaign,
    result,
    *,
    old_key_fingerprint: str,
    before: dict | None = None,
    seen_live: str | None = None,
) -> StepVerdict:
    """Store a verdict with its evidence (audited); PASS after a cut-over marks it verified.

    ``old_key_fingerprint`` is the fingerprint of the key the run probed (its Identities);
    ``before`` the before-observation ``cutover`` made of that key just before its change."""
    from workbench.verify import verdict_document

    step_key = result.target.name
    doc = verdict_document(result)
    _attach_liveness(doc, campaign, step_key, old_key_fingerprint, before, seen_live)
    return _store(campaign, step_key, doc, result.verdict.started, result.verdict.finished,
                  old_key_fingerprint)  # fmt: skip


def _store(campaign, step_key, doc, started, finished, fingerprint) -> StepVerdict:
    ws = campaign.workspace
    with ws.transaction():
        ws.record_verdict(
            step_key,
            doc["verdict"],
            started_at=started,
            finished_at=finished,
            old_key_fingerprint=fingerprint,
            evidence=doc,
        )
        step = ws.step(step_key)
        if doc["verdict"] == Verdict.PASS and step.state == StepState.CUT_OVER:
            ws.set_step_state(
                step_key, StepState.VERIFIED, reason="cut-over verified: PASS recorded"
            )
    return StepVerdict(step_key, doc, ws.step(step_key).state)


def run_options(options=None, *, timeout: float | None = None, concurrency: int | None = None):
    from dataclasses import replace

    from workbench.verify import Options

    options = options or Options()
    if timeout is not None:
        options = replace(options, timeout=timeout)
    if concurrency is not None:
        options = replace(options, concurrency=concurrency)
    return options


def verify_steps(
    campaign: Campaign,
    step_keys: Sequence[str],
    *,
    concurrency: int | None = None,
    timeout: float | None = None,
    allow_cross_environment: bool = False,
    progress: Callable[[object], None] | None = None,
    options=None,
    seen_live: Mapping[str, str] | None = None,
) -> list[StepVerdict]:
    """Verify steps (all probes through one bounded pool) and record every verdict.

    ``seen_live`` maps a step to how its caller saw the old key accepted just before its own
    change (the kill-key drill); other steps rely on a recorded before-observation.
    A step that cannot be probed at all (no health_path, no certificate) does not stop the
    others: with several steps it gets an unrecorded ERROR naming the fix; alone it raises."""
    from workbench.verify import run_verify_many

    jobs, setup_errors = [], {}
    for k in step_keys:
        try:
            jobs.append(step_job(campaign, k, allow_cross_environment=allow_cross_environment))
        except VerifyError as exc:
            if len(step_keys) == 1:
                raise
            setup_errors[k] = str(exc)
            if progress is not None:
                progress(None)
    opts = run_options(options, timeout=timeout, concurrency=concurrency)
    results = run_verify_many(jobs, options=opts, progress=progress) if jobs else []
    recorded = {
        result.target.name: record(
            campaign,
            result,
            old_key_fingerprint=identities.old_key.fingerprint,
            seen_live=(seen_live or {}).get(result.target.name),
        )
        for (_, identities), result in zip(jobs, results, strict=True)
    }
    out = []
    for k in step_keys:
        if k in recorded:
            out.append(recorded[k])
        else:
            doc = {"url": None, "target": k, "verdict": Verdict.ERROR, "probes": [],
                   "reasons": [setup_errors[k]], "scope": {}, "liveness": {}}  # fmt: skip
            out.append(StepVerdict(k, doc, campaign.workspace.step(k).state))
    return out


def wave_verdict(verdicts: Sequence[StepVerdict]) -> Verdict:
    """A wave passes only when every step passes; any FAIL makes it FAIL; otherwise the worst
    of ERROR and INCONCLUSIVE."""
    kinds = {v.verdict for v in verdicts}
    if not kinds:
        return Verdict.ERROR  # an empty wave proves nothing
    return min(kinds, key=VERDICTS_WORST_FIRST.index)


@dataclass(frozen=True)
class CutoverOutcome:
    """What `cutover` did."""

    step: str
    usage_accepted: int
    """Requests with the old key accepted in the usage window before the switch."""
    verdict: StepVerdict | None
    rolled_back: bool
    state: str


def guard_verified_change(campaign: Campaign, step_key: str, *, force: bool) -> None:
    """``gateway set-mode`` on a verified step refuses without ``force``: the change voids
    the proof (the step leaves ``verified``) and must be verified again."""
    step = campaign.workspace.step(step_key)
    if step.state == StepState.VERIFIED and not force:
        raise GatewayError(
            f"step {step_key} is verified: changing its gateway voids that proof (the step "
            "leaves verified and needs a new PASS); pass --force to do it anyway"
        )


def _prepare_revoke_only(campaign: Campaign, step_key: str) -> None:
    """A revoke-only step has no consumer to issue for or to overlap: it goes straight to
    the state from which the key can be retired (audited)."""
    ws = campaign.workspace
    with ws.transaction():
        for state in (StepState.ISSUED, StepState.DUAL):
            if ws.step(step_key).state in (StepState.PLANNED, StepState.ISSUED):
                ws.set_step_state(step_key, state, reason="revoke-only: no consumer to move")


def _refuse_manual_gateway(campaign: Campaign, step_key: str, target) -> None:
    """A manual gateway is changed by a person, not by ``cutover``: refuse before any probe
    (the before-observation must directly precede the change it vouches for)."""
    from workbench.gateway.handle import ManualApplication
    from workbench.migration.gateway_ops import gateway_for

    api = campaign.inventory.key(step_key).api
    handle = gateway_for(campaign, api)
    if handle.kind == "manual":
        raise ManualApplication(
            f"API {api} is behind the manual gateway {handle.id}: apply the instructions "
            f"(`workbench gateway set-mode mtls --step {step_key}` prints them), record them "
            f"with `workbench gateway applied --step {step_key} --mode mtls`, then verify "
            f"with `workbench verify --step {step_key}`"
        )


def cutover(
    campaign: Campaign,
    step_key: str,
    *,
    usage_window: timedelta = timedelta(minutes=15),
    since: datetime | None = None,
    force: bool = False,
    fault: str | None = None,
    timeout: float | None = None,
    options=None,
) -> CutoverOutcome:
    """Check usage, confirm the old key live, switch to mtls, verify; roll back to dual
    unless the verdict is PASS.

    Before anything changes: the API must have a health_path, a positive control must exist,
    the old key must not have been accepted since ``since`` (default: the last
    ``usage_window``) unless ``force``, and the very old key value the workbench holds must
    be accepted at every entry point and address (else ERROR, nothing changed)."""
    from workbench.errors import CutoverBlocked
    from workbench.migration.gateway_ops import set_step_mode
    from workbench.migration.usage import step_usage
    from workbench.verify import liveness_document, run_confirm_live

    opts = run_options(options, timeout=timeout)
    ws = campaign.workspace
    ws.step(step_key)
    require_health_path(campaign, campaign.inventory.api(campaign.inventory.key(step_key).api))
    window_start = since or campaign.now() - usage_window
    usage = step_usage(campaign, step_key, since=window_start)
    if usage.accepted and not force:
        last = usage.last_accepted.isoformat(timespec="seconds") if usage.last_accepted else "?"
        raise CutoverBlocked(
            f"step {step_key}: the old key was accepted {usage.accepted} time(s) since "
            f"{window_start.isoformat(timespec='seconds')} (last {last}, agents "
            f"{', '.join(usage.user_agents) or '?'}): move those consumers first, or --force"
        )
    target, identities = step_job(campaign, step_key)
    _refuse_manual_gateway(campaign, step_key, target)
    if is_revoke_only(campaign, step_key):
        _prepare_revoke_only(campaign, step_key)
    fp = identities.old_key.fingerprint
    live = run_confirm_live(target, identities, options=opts)
    before = liveness_document(live, fp)
    if live.state != "LIVE":
        doc = {
            "url": target.url,
            "target": step_key,
            "verdict": Verdict.ERROR,
            "scope": {},
            "run": before["run"],
            "liveness": {"confirmed": False, "how": live.reasons[0]},
            "before": before,
            "probes": [],
            "reasons": [*live.reasons, "nothing was changed: the gateway is as it was"],
            "started": before["started"],
            "finished": before["finished"],
        }
        verdict = _store(campaign, step_key, doc, live.started, live.finished, fp)
        return CutoverOutcome(step_key, usage.accepted, verdict, False, verdict.state)
    set_step_mode(campaign, step_key, GatewayMode.MTLS, fault=fault, reason="cutover")
    try:
        from workbench.verify import run_verify_many

        [result] = run_verify_many([(target, identities)], options=opts)
        verdict = record(campaign, result, old_key_fingerprint=fp, before=before)
    except BaseException:
        set_step_mode(
            campaign, step_key, GatewayMode.DUAL, reason="cutover aborted: verifier error"
        )
        raise
    rolled_back = verdict.verdict != Verdict.PASS
    if rolled_back:
        set_step_mode(
            campaign,
            step_key,
            GatewayMode.DUAL,
            reason=f"automatic rollback: verdict {verdict.verdict}",
        )
    return CutoverOutcome(step_key, usage.accepted, verdict, rolled_back, ws.step(step_key).state)
