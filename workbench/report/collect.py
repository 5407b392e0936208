"""Read the program report's figures from one workspace (its state, audit chain, inventory).

The definitions each figure follows are in :mod:`workbench.report.program`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.report.drills import read_drills
from workbench.report.program import (
    DEFAULT_EXPIRY_WINDOW,
    OPEN_FINDING_CODES,
    BoundTokenAtRisk,
    DataClassRow,
    ExpiringCertificate,
    KeyRetirement,
    OpenFinding,
    ProgramReport,
)
from workbench.states import KEY_RETIRED_STATES, GatewayMode, StepState

__all__ = ["program_report"]


def _retirements(ws: Any, steps: list[Any], created: datetime) -> dict[str, tuple]:
    """Key -> (discovered_at, retired_at) from the audit chain's step transitions."""
    plan_keys = {s.key for s in steps}
    first_plan_seen = False
    discovered: dict[str, datetime] = {}
    retired: dict[str, datetime | None] = {}
    for rec in ws.audit_records():
        if rec.action == "plan.set" and not first_plan_seen:
            first_plan_seen = True
            discovered.update(dict.fromkeys(plan_keys, created))
            continue
        if rec.action != "step.state" or rec.subject not in plan_keys:
            continue
        when = datetime.fromisoformat(rec.time).astimezone(UTC)
        discovered.setdefault(rec.subject, when)
        to = rec.details.get("to") if isinstance(rec.details, dict) else None
        if to == StepState.VERIFIED:
            if retired.get(rec.subject) is None:
                retired[rec.subject] = when
        elif to in (StepState.ROLLED_BACK, StepState.FAILED, StepState.PLANNED):
            retired[rec.subject] = None
    return {
        s.key: (
            discovered.get(s.key, created),
            retired.get(s.key) if s.state in KEY_RETIRED_STATES else None,
        )
        for s in steps
    }


def _live_tokens(campaign: Any, now: datetime) -> tuple[list[Any], bool]:
    from workbench.errors import WorkbenchError

    try:
        from workbench.migration.tokens import issued_tokens

        return issued_tokens(campaign, live_at=now), True
    except (WorkbenchError, ImportError, OSError):
        return [], False


def program_report(
    campaign: Any,
    *,
    now: datetime | None = None,
    expiry_window: timedelta = DEFAULT_EXPIRY_WINDOW,
) -> ProgramReport:
    """The program report of an open campaign (``wb.open_campaign(DIR)``) at ``now``."""
    from workbench.inventory import find_findings

    ws, inv = campaign.workspace, campaign.inventory
    now = now or campaign.now()
    info = ws.info()
    steps = ws.steps()
    notes: list[str] = []

    api_modes: dict[str, str] = {a.id: GatewayMode.KEY for a in inv.apis}
    for change in ws.gateway_changes():  # oldest first: the last one wins
        if change.api in api_modes:
            api_modes[change.api] = change.to_mode

    times = _retirements(ws, steps, info.created_at)
    step_by_key = {s.key: s for s in steps}
    retirements = []
    key_modes: dict[str, str] = {}
    for key in inv.keys:
        discovered, retired = times.get(key.id, (info.created_at, None))
        retirements.append(KeyRetirement(key.id, key.api, discovered, retired))
        api_mode = api_modes.get(key.api, GatewayMode.KEY)
        if retired is not None:
            token = api_mode == GatewayMode.MTLS_TOKEN
            key_modes[key.id] = GatewayMode.MTLS_TOKEN if token else GatewayMode.MTLS
        else:
            dual = api_mode == GatewayMode.DUAL
            key_modes[key.id] = GatewayMode.DUAL if dual else GatewayMode.KEY
        if key.id not in step_by_key:
            notes.append(f"key {key.id} is not in the workspace's plan: run `workbench init`")

    classes: dict[str, list[int]] = {}
    for r in retirements:
        for dc in inv.api(r.api).data_classes or ("unclassified",):
            row = classes.setdefault(dc, [0, 0])
            row[0 if r.retired_at is not None else 1] += 1
    by_class = tuple(
        DataClassRow(dc, done, left)
        for dc, (done, left) in sorted(classes.items(), key=lambda i: (-i[1][1], i[0]))
    )

    certs = ws.active_certificates(kind="client")
    expiring = tuple(
        ExpiringCertificate(
            c.service,
            c.step_key,
            c.serial,
            c.not_after,
            (c.not_after - now).total_seconds() / 86400,
        )
        for c in sorted(certs, key=lambda c: (c.not_after, c.service))
        if c.not_after - now <= expiry_window
    )

    tokens, tokens_known = _live_tokens(campaign, now)
    if not tokens_known:
        notes.append("bound tokens unknown: the token server's record could not be read")
    by_thumb = {c.x5t_s256: c for c in certs}
    at_risk = tuple(
        BoundTokenAtRisk(by_thumb[t.x5t_s256].service, by_thumb[t.x5t_s256].step_key, t.jti,
                         t.token_fp, t.expires)
        for t in sorted(tokens, key=lambda t: (t.expires, t.jti))
        if t.x5t_s256 in by_thumb
    )  # fmt: skip

    retired_keys = {r.key for r in retirements if r.retired_at is not None}
    open_findings = tuple(
        OpenFinding(OPEN_FINDING_CODES[f.code], f.subject, f.severity.value, f.message)
        for f in find_findings(inv, today=now.date())
        if f.code in OPEN_FINDING_CODES and f.subject not in retired_keys
    )

    on_certs = sum(1 for i in inv.integrations if i.key in retired_keys)
    return ProgramReport(
        generated_at=now,
        workspace=str(ws.directory),
        trust_domain=info.trust_domain,
        api_modes=api_modes,
        key_modes=key_modes,
        by_data_class=by_class,
        retirements=tuple(retirements),
        expiring=expiring,
        expiry_window_days=expiry_window.total_seconds() / 86400,
        bound_tokens_at_risk=at_risk,
        tokens_known=tokens_known,
        open_findings=open_findings,
        drills=read_drills(ws),
        integrations_total=len(inv.integrations),
        integrations_on_certificates=on_certs,
        notes=tuple(notes),
    )
