"""Turn contexts into plain documents (schema ``workbench.playbook/v2``), the single source for
every format: YAML and JSON dump them, the Markdown templates and the CSV rows read them.

All user text passes through :func:`~workbench.playbook.text.clean` here, and free text
(notes, reason details, probe observations, verdict reasons, evidence values, usage clients)
that looks like a secret (PEM key, JWT, token prefix, long high-entropy string) is replaced
by a marker before any format sees it (requirement 11, defence in depth: the model already
refuses secret objects).

Evidence is what was measured: with no verdict the status is ``NOT VERIFIED`` and the word
PASS appears nowhere in the ticket; a FAIL verdict is shown as FAIL with its probes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from workbench.playbook.mermaid import step_mermaid
from workbench.playbook.model import Command, ProbeSpec, TicketContext, WaveContext
from workbench.playbook.text import clean
from workbench.secrets import secret_kind
from workbench.states import GatewayMode, Verdict

__all__ = [
    "PRIORITY_THRESHOLDS",
    "SCHEMA_ID",
    "priority_for",
    "ticket_document",
    "ticket_id",
    "wave_document",
    "wave_id",
]

SCHEMA_ID = "workbench.playbook/v2"
"""Value of ``schema`` in every YAML/JSON document; JSON Schema: playbooks/schema/ticket.v2.json."""

PRIORITY_THRESHOLDS = ((75.0, "P1"), (50.0, "P2"), (25.0, "P3"))
"""Score >= 75 -> P1, >= 50 -> P2, >= 25 -> P3, else P4 (the default policy scores 0-100)."""

NOT_VERIFIED = "NOT VERIFIED"


def priority_for(
    score: float, thresholds: Sequence[tuple[float, str]] = PRIORITY_THRESHOLDS
) -> str:
    """Ticket priority from the risk score (fixed thresholds, highest first)."""
    for floor, name in thresholds:
        if score >= floor:
            return name
    return "P4"


def ticket_id(ctx: TicketContext) -> str:
    """``wave-NN-<key>``: also the file name stem."""
    return f"wave-{ctx.wave:02d}-{ctx.step_key}"


def wave_id(number: int) -> str:
    """``wave-NN``: the wave summary's file name stem."""
    return f"wave-{number:02d}"


def _t(value: str | None) -> str | None:
    return None if value is None else clean(value)


def _free(value: str | None) -> str | None:
    """Clean free text and hide anything that looks like a secret."""
    if value is None:
        return None
    kind = secret_kind(value)
    return f"[hidden: looked like a {kind}]" if kind else clean(value)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cmd(c: Command, n: int | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "description": _t(c.description),
        "command": _t(c.command),
        "files": [_t(f) for f in c.files],
    }
    return d if n is None else {"n": n, **d}


def _probe(p: ProbeSpec) -> dict[str, Any]:
    return {"name": _t(p.name), "expected": p.expected, "description": _t(p.description)}


def _evidence(ctx: TicketContext) -> dict[str, Any]:
    v = ctx.verdict
    # the record's plain text (a ticket holds no enum members: yaml.safe_dump)
    status = NOT_VERIFIED if v is None else v.verdict
    if v is None:
        statement = "NOT VERIFIED: no passing verdict recorded"
    elif v.verdict == Verdict.PASS:
        statement = (
            f"PASS recorded at {_ts(v.finished)}: the new certificate works, the old key is refused"
        )
    elif v.verdict == Verdict.FAIL:
        statement = "FAIL: the last verification failed; the old key must not be revoked"
    else:
        statement = f"{v.verdict}: {NOT_VERIFIED}, the last run proved nothing; fix and re-run"
    verdict = None
    if v is not None:
        verdict = {
            "verdict": v.verdict,
            "started": _ts(v.started),
            "finished": _ts(v.finished),
            "reasons": [_free(r) for r in v.reasons],
            "probes": [
                {
                    "name": _t(p.name),
                    "expected": _t(p.expected),
                    "observed": _free(p.observed),
                    "outcome": _t(p.outcome),
                    "evidence": {_t(k): _free(val) for k, val in p.evidence},
                }
                for p in v.probes
            ],
        }
    return {
        "status": status,
        "statement": statement,
        "verdict": verdict,
        "certificates": [
            {"service": _t(c.service), "serial": c.serial, "sha256": c.sha256}
            for c in ctx.certificates
        ],
        "audit": [{"seq": a.seq, "action": _t(a.action), "hash": a.hash} for a in ctx.audit],
        "audit_head": None
        if ctx.audit_head is None
        else {
            "seq": ctx.audit_head.seq,
            "hash": ctx.audit_head.hash,
            "anchor": f"{ctx.audit_head.seq}:{ctx.audit_head.hash}",
        },
    }


def _usage(ctx: TicketContext) -> dict[str, Any]:
    u = ctx.usage
    if u is None:
        return {"status": "no data", "source": None, "since": None, "total": None, "clients": []}
    return {
        "status": "measured",
        "source": _t(u.source),
        "since": _ts(u.since),
        "total": u.total,
        "clients": [
            {"client": _free(c.client), "count": c.count, "last_seen": _ts(c.last_seen)}
            for c in u.clients
        ],
    }


def ticket_document(
    ctx: TicketContext,
    *,
    now: datetime,
    thresholds: Sequence[tuple[float, str]] = PRIORITY_THRESHOLDS,
) -> dict[str, Any]:
    """The ticket as plain data (``kind: ticket``), ready for ``yaml.safe_dump``/``json.dumps``."""
    api = ctx.api
    cmds = ctx.effective_commands
    owners = list(dict.fromkeys([_t(api.owner)] + [_t(c.owner) for c in ctx.consumers]))
    n_cons = len(ctx.consumers)
    picture, picture_source = step_mermaid(ctx)
    title = (
        f"Move callers of key {_t(ctx.step_key)} on API {_t(api.id)} to mTLS client certificates"
    )
    summary = (
        f"Wave {ctx.wave}: {n_cons} service(s) switch from the static key "
        f"(fingerprint {ctx.key_fingerprint or 'not recorded yet'}) to client certificates at "
        f"{_t(api.id)} "
        f"({_t(api.environment)}); after {ctx.schedule.overlap_days} day(s) in dual mode the "
        "gateway refuses the old key."
    )
    if not n_cons:  # issue 9: a key nobody uses is retired with proof, not migrated
        title = f"Revoke-only: retire unused key {_t(ctx.step_key)} on API {_t(api.id)}"
        summary = (
            f"Wave {ctx.wave}: revoke-only. No service uses the static key (fingerprint "
            f"{ctx.key_fingerprint}); the gateway of {_t(api.id)} ({_t(api.environment)}) stops "
            "accepting it, proved with another identity the API authorises as positive control."
        )
    change_files = [_t(f) for c in ctx.certificates for f in c.config_files]
    return {
        "schema": SCHEMA_ID,
        "kind": "ticket",
        "id": ticket_id(ctx),
        "generated": _ts(now),
        "title": title,
        "summary": summary,
        "step": {"key": _t(ctx.step_key), "wave": ctx.wave, "key_fingerprint": ctx.key_fingerprint},
        "risk": {
            "score": ctx.score,
            "priority": priority_for(ctx.score, thresholds),
            "reasons": [
                {"factor": _t(r.factor), "contribution": r.contribution, "detail": _free(r.detail)}
                for r in ctx.reasons
            ],
        },
        "affected": {
            "api": {
                "id": _t(api.id),
                "url": _t(api.url),
                "owner": _t(api.owner),
                "environment": _t(api.environment),
                "data_classes": [_t(d) for d in api.data_classes],
                "provided_by": _t(api.provided_by),
            },
            "services": [
                {
                    "service": _t(c.service),
                    "owner": _t(c.owner),
                    "environment": _t(c.environment),
                    "exposure": _t(c.exposure),
                }
                for c in ctx.consumers
            ],
            "owners": owners,
        },
        "schedule": {
            "planned_start": _ts(ctx.schedule.planned_start),
            "overlap_days": ctx.schedule.overlap_days,
            "cutover_due": _ts(ctx.schedule.cutover_due),
        },
        "prechecks": {
            "gateway_mode": _t(ctx.gateway_mode),
            "gateway_mode_ok": ctx.gateway_mode == GatewayMode.DUAL,
            "certificates": [
                {
                    "service": _t(c.service),
                    "serial": c.serial,
                    "sha256": c.sha256,
                    "not_after": _ts(c.not_after),
                    "config_files": [_t(f) for f in c.config_files],
                }
                for c in ctx.certificates
            ],
            "certificates_missing": sorted(
                {_t(c.service) for c in ctx.consumers} - {_t(c.service) for c in ctx.certificates}
            ),
            "usage": _usage(ctx),
            "commands": [_cmd(c, i) for i, c in enumerate(cmds.precheck, 1)],
        },
        "change": {
            "steps": [_cmd(c, i) for i, c in enumerate(cmds.change, 1)],
            "config_files": change_files,
        },
        "verification": {
            "probes": [_probe(p) for p in ctx.probes],
            "commands": [_cmd(c, i) for i, c in enumerate(cmds.verify, 1)],
        },
        "rollback": {
            "steps": [_cmd(c, i) for i, c in enumerate(cmds.rollback, 1)],
            "verification": {
                "probes": [_probe(p) for p in ctx.rollback_probes],
                "commands": [_cmd(c, i) for i, c in enumerate(cmds.rollback_verify, 1)],
            },
        },
        "evidence": _evidence(ctx),
        "approvals": [
            {"role": role, "name": None, "decision": None, "date": None}
            for role in (
                "change manager",
                f"API owner: {_t(api.owner)}",
                *dict.fromkeys(f"service owner: {_t(c.owner)}" for c in ctx.consumers),
                "security",
            )
        ],
        "mermaid": {"source": picture_source, "text": picture},
        "labels": [_t(x) for x in ctx.extra_labels],
        "notes": _free(ctx.notes),
    }


def wave_document(
    wave: WaveContext, tickets: Sequence[dict[str, Any]], *, now: datetime
) -> dict[str, Any]:
    """The wave summary (``kind: wave``) over its already built ticket documents."""
    starts = [t["schedule"]["planned_start"] for t in tickets]
    dues = [t["schedule"]["cutover_due"] for t in tickets]
    return {
        "schema": SCHEMA_ID,
        "kind": "wave",
        "id": wave_id(wave.number),
        "generated": _ts(now),
        "number": wave.number,
        "title": f"Wave {wave.number}: {len(tickets)} change ticket(s)",
        "window": {"first_start": min(starts, default=None), "last_due": max(dues, default=None)},
        "tickets": [
            {
                "id": t["id"],
                "key": t["step"]["key"],
                "api": t["affected"]["api"]["id"],
                "environment": t["affected"]["api"]["environment"],
                "owners": t["affected"]["owners"],
                "priority": t["risk"]["priority"],
                "score": t["risk"]["score"],
                "planned_start": t["schedule"]["planned_start"],
                "cutover_due": t["schedule"]["cutover_due"],
                "evidence": t["evidence"]["status"],
            }
            for t in tickets
        ],
        "notes": _free(wave.notes),
        # one export, one chain head: the tickets' (req. 31)
        "audit_head": next(
            (t["evidence"]["audit_head"] for t in tickets if t["evidence"].get("audit_head")), None
        ),
    }
