"""`workbench export playbook`: change tickets built from what the workspace measured.

Evidence is what was recorded: the latest verdict with its probes, the certificates, the
gateway's view of the old key, the audit records' hashes. A step without a PASS says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.migration.campaign import Campaign
from workbench.states import GatewayMode
from workbench.verify.reading import VerdictReading

DEFAULT_OVERLAP_DAYS = 14
# The workspace verifier's extra negative probes (see migration.verification), in run order.
WORKSPACE_PROBES = (
    ("foreign-ca-cert", "a certificate with the consumer's identity from another CA"),
    ("revoked-cert", "a revoked certificate with the consumer's identity"),
    ("other-service-cert", "a valid certificate of a service this API does not authorise"),
)


def _usage(campaign: Campaign, step_key: str):
    """What the gateway's log says of the old key, or None ("no usage data yet").

    Exporting tickets is planning work: it reads what was recorded and never needs a running
    gateway, the sample environment, or the old key's value. Any reason the usage cannot be
    read (no gateway has run, the key's value is not at hand) leaves the ticket without it.
    """
    from workbench.migration.usage import step_usage
    from workbench.playbook import ClientUsage, KeyUsage

    try:
        report = step_usage(campaign, step_key)
    except WorkbenchError:
        return None
    clients = getattr(report, "clients", None)
    if clients is None:  # older usage reports: one line for all callers
        clients = (
            [(", ".join(report.user_agents) or "all clients", report.requests, report.last_seen)]
            if report.requests
            else []
        )
    return KeyUsage(
        source=report.log_path,
        clients=tuple(ClientUsage(str(c), int(n), t) for c, n, t in clients),
        since=report.since,
    )


def ticket_context(campaign: Campaign, step_key: str, *, start: datetime, overlap_days: int):
    """The TicketContext of one step, from the plan snapshot, inventory and workspace."""
    from workbench.migration.usage import old_key
    from workbench.playbook import (
        DEFAULT_PROBES,
        ApiRef,
        AuditRef,
        CertificateRef,
        ConsumerRef,
        ProbeSpec,
        RiskReason,
        Schedule,
        TicketContext,
        VerdictRecord,
        default_commands,
    )

    ws, inv = campaign.workspace, campaign.inventory
    step = ws.step(step_key)
    planned = _plan_step(ws.plan() or {}, step_key)
    key = inv.key(step_key)
    api = inv.api(key.api)
    verdict = ws.latest_verdict(step_key)
    certs = ws.active_certificates(step=step_key, kind="client")
    serials = {c.serial for c in certs}
    rendered = _rendered_files(campaign, step_key)
    records = ws.audit_records()
    audit = [
        AuditRef(r.seq, r.action, r.hash)
        for r in records
        if r.subject in serials or r.subject in (step_key, api.id)
    ]
    # the ticket names the chain head it was exported at (req. 31): anchor for audit verify
    head = AuditRef(records[-1].seq, records[-1].action, records[-1].hash) if records else None
    gw_changes = ws.gateway_changes(api.id)
    try:
        fingerprint = old_key(campaign, step_key).fingerprint
    except WorkbenchError:  # the value lives elsewhere (never required): a recorded fingerprint
        fingerprint = step.key_fingerprint or (verdict.old_key_fingerprint if verdict else None)
    return TicketContext(
        step_key=step_key,
        api=ApiRef(
            api.id, api.url, api.owner, api.environment, tuple(api.data_classes), api.provided_by
        ),
        consumers=tuple(
            ConsumerRef(s.id, s.owner, s.environment, s.exposure)
            for s in (inv.service(c) for c in inv.consumers_of(step_key))
        ),
        wave=step.wave,
        score=float(planned.get("score", 0.0)),
        reasons=tuple(
            RiskReason(r["factor"], float(r["contribution"]), r.get("detail") or "")
            for r in planned.get("reasons", ())
        ),
        schedule=Schedule(start + timedelta(days=7 * (step.wave - 1)), overlap_days),
        key_fingerprint=fingerprint,
        # plain text: a ticket holds no enum members (yaml.safe_dump)
        gateway_mode=(gw_changes[-1].to_mode if gw_changes else GatewayMode.KEY).value,
        certificates=tuple(
            CertificateRef(
                c.service, c.serial, c.sha256, c.not_after, tuple(rendered.get(c.service, ()))
            )
            for c in certs
        ),
        usage=_usage(campaign, step_key),
        probes=DEFAULT_PROBES + tuple(ProbeSpec(n, "refused", d) for n, d in WORKSPACE_PROBES),
        commands=default_commands(step_key, str(ws.directory)),
        verdict=VerdictRecord.from_mapping(VerdictReading.from_row(verdict)) if verdict else None,
        audit=tuple(audit[-20:]),
        audit_head=head,
        workspace=str(ws.directory),
    )


def _plan_step(plan: dict, step_key: str) -> dict:
    for wave in plan.get("waves", ()):
        for s in wave.get("steps", ()):
            if s.get("key") == step_key:
                return s
    return {}


def _rendered_files(campaign: Campaign, step_key: str) -> dict[str, list[str]]:
    """Rendered config files per service (``workbench render``), if any."""
    base = campaign.directory / "rendered" / step_key
    out: dict[str, list[str]] = {}
    if base.is_dir():
        for path in sorted(base.rglob("*")):
            if path.is_file():
                service = path.relative_to(base).parts[0]
                out.setdefault(service, []).append(str(path.relative_to(campaign.directory)))
    return out


def export(
    campaign: Campaign,
    *,
    steps: Sequence[str] | None = None,
    wave: int | None = None,
    fmt: str = "md",
    out_dir: Path | None = None,
    templates_dir: Path | None = None,
    start: datetime | None = None,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
) -> list[Path]:
    """Write the playbooks of some steps, one wave, or everything (``steps=None, wave=None``)."""
    from workbench.migration.usage import old_key
    from workbench.playbook import WaveContext, export_playbooks

    ws = campaign.workspace
    now = campaign.now()
    chosen = ws.steps(wave=wave) if wave is not None else ws.steps()
    if steps is not None:
        chosen = [ws.step(k) for k in steps]
    if not chosen:
        from workbench.errors import UnknownIdError

        raise UnknownIdError("wave", wave, {s.wave for s in ws.steps()})
    start = start or now
    waves: dict[int, list] = {}
    secrets = []
    for step in chosen:
        waves.setdefault(step.wave, []).append(
            ticket_context(campaign, step.key, start=start, overlap_days=overlap_days)
        )
        with contextlib.suppress(WorkbenchError):  # no key value at hand: nothing to guard
            secrets.append(old_key(campaign, step.key))  # the exporter refuses to leak these
    out_dir = out_dir or ws.directory / "playbooks"
    return export_playbooks(
        [WaveContext(n, tuple(t)) for n, t in sorted(waves.items())],
        fmt=fmt,
        out_dir=out_dir,
        now=now,
        templates_dir=templates_dir,
        secrets=secrets,
    )
