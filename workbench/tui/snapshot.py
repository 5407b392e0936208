"""What the TUI shows, as frozen values built from core objects (pure presentation).

No Textual here: a :class:`Snapshot` is computed from an inventory and a plan (planning
view) or from an open campaign (workspace view), then handed to the widgets. Old key
values never enter a snapshot: only the fingerprints the core recorded (req. 11).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from workbench.inventory.model import Finding, Inventory
from workbench.plan.model import Reason

__all__ = [
    "AUDIT_ROWS",
    "AuditSummary",
    "CertificateLine",
    "ConsumerLine",
    "Evidence",
    "ProbeLine",
    "Snapshot",
    "StepDetail",
    "StepRow",
    "evidence_from_document",
    "planning_snapshot",
    "workspace_snapshot",
]

AUDIT_ROWS = 500
"""Most recent audit records shown (the chain check always covers all of them)."""


@dataclass(frozen=True)
class StepRow:
    """One line of the waves and steps table."""

    wave: int
    """Wave number (1-based)."""
    key: str
    """The step (key id)."""
    api: str
    """The API that accepts the key."""
    consumers: tuple[str, ...]
    """Services moving to certificates."""
    score: float
    """Risk score from the plan."""
    state: str
    """Step state (``planned`` in the planning view)."""
    verdict: str | None
    """Latest verdict, if any."""


@dataclass(frozen=True)
class ConsumerLine:
    """A consumer of the step's key."""

    service: str
    """Service id."""
    owner: str
    """Owning team."""
    exposure: str
    """internet, partner or internal."""
    environment: str
    """The service's environment."""
    third_party: bool
    """Run by a partner or vendor."""


@dataclass(frozen=True)
class CertificateLine:
    """An active client certificate of the step (public facts only)."""

    service: str
    """Holder."""
    serial: str
    """Serial number (hex)."""
    not_after: datetime
    """Expiry."""


@dataclass(frozen=True)
class StepDetail:
    """Everything the detail panel shows for one step."""

    key: str
    """The step (key id)."""
    api: str
    """The API that accepts the key."""
    owner: str
    """Team owning the API."""
    environment: str
    """The API's environment."""
    wave: int
    """Wave number."""
    score: float
    """Risk score."""
    reasons: tuple[Reason, ...]
    """Score decomposition, largest first."""
    consumers: tuple[ConsumerLine, ...]
    """Consumers with owners and exposure."""
    blast_services: tuple[str, ...]
    """Every service affected if the cut-over goes wrong."""
    blast_apis: tuple[str, ...]
    """APIs that go down with an affected service."""
    flags: tuple[str, ...]
    """Notable facts from the plan (shared, third-party, ...)."""
    state: str
    """Step state."""
    certificates: tuple[CertificateLine, ...] = ()
    """Active client certificates (workspace view only)."""
    fingerprint: str | None = None
    """Fingerprint of the old key (never its value)."""


@dataclass(frozen=True)
class ProbeLine:
    """One probe of a recorded verdict."""

    name: str
    expected: str
    observed: str
    outcome: str
    ip: str | None
    tls_version: str | None
    elapsed_ms: float | None
    sni: str | None


@dataclass(frozen=True)
class Evidence:
    """The latest recorded verdict of a step."""

    step: str
    verdict: str
    """PASS, FAIL, INCONCLUSIVE or ERROR."""
    url: str
    """The URL probed."""
    started: str
    """When the run started (ISO 8601, as recorded)."""
    old_key_fingerprint: str
    """Fingerprint of the old key probed (never its value)."""
    probes: tuple[ProbeLine, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AuditSummary:
    """The audit log: its chain check and its latest records."""

    ok: bool
    """The chain check passed."""
    reason: str
    """One line from the chain check."""
    count: int
    """Records in the log."""
    head_hash: str
    """Hash of the last record."""
    records: tuple[Any, ...]
    """The latest :data:`AUDIT_ROWS` ``AuditRecord``s, newest last."""


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the plan or workspace."""

    mode: str
    """``workspace`` (actions available) or ``plan`` (read-only planning view)."""
    title: str
    """What is open (workspace directory or inventory file)."""
    now: datetime
    """The clock reading the view was built at (expiries are shown relative to it)."""
    rows: tuple[StepRow, ...]
    details: Mapping[str, StepDetail]
    evidence: Mapping[str, Evidence] = field(default_factory=dict)
    audit: AuditSummary | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def read_only(self) -> bool:
        return self.mode != "workspace"


def _details(
    inv: Inventory,
    plan: Mapping[str, Any],
    states: Mapping[str, str],
    certificates: Mapping[str, tuple[CertificateLine, ...]],
    fingerprints: Mapping[str, str | None],
) -> tuple[list[tuple[int, dict]], dict[str, StepDetail]]:
    from workbench.graph import build_graph

    graph = build_graph(inv)
    ordered: list[tuple[int, dict]] = []
    details: dict[str, StepDetail] = {}
    for wave in plan["waves"]:
        for s in wave["steps"]:
            ordered.append((wave["number"], s))
            blast = graph.blast_radius(s["key"])
            consumers = []
            for sid in s["consumers"]:
                svc = inv.services_by_id.get(sid)
                if svc is not None:
                    consumers.append(
                        ConsumerLine(sid, svc.owner, svc.exposure, svc.environment, svc.third_party)
                    )
            details[s["key"]] = StepDetail(
                key=s["key"],
                api=s["api"],
                owner=s["owner"],
                environment=s["environment"],
                wave=wave["number"],
                score=s["score"],
                reasons=tuple(Reason(**r) for r in s["reasons"]),
                consumers=tuple(consumers),
                blast_services=blast.services,
                blast_apis=blast.apis,
                flags=tuple(s.get("flags", ())),
                state=states.get(s["key"], "planned"),
                certificates=certificates.get(s["key"], ()),
                fingerprint=fingerprints.get(s["key"]),
            )
    return ordered, details


def planning_snapshot(inv: Inventory, plan: Any, *, now: datetime) -> Snapshot:
    """The read-only planning view of ``inv`` and its ``Plan``."""
    from workbench.inventory import find_findings

    fingerprints = {k.id: k.fingerprint for k in inv.keys}
    ordered, details = _details(inv, plan.to_dict(), {}, {}, fingerprints)
    rows = tuple(
        StepRow(w, s["key"], s["api"], tuple(s["consumers"]), s["score"], "planned", None)
        for w, s in ordered
    )
    return Snapshot(
        mode="plan",
        title=f"planning view: {Path(inv.source).name if inv.source else 'inventory'} (read-only)",
        now=now,
        rows=rows,
        details=MappingProxyType(details),
        findings=tuple(find_findings(inv, today=now.date())),
    )


def evidence_from_document(
    step: str, verdict: str, old_key_fingerprint: str, doc: Mapping[str, Any]
) -> Evidence:
    """An :class:`Evidence` from a stored verdict document (``verdict_document``'s shape)."""
    probes = []
    for p in doc.get("probes", ()):
        ev = p.get("evidence") or {}
        probes.append(
            ProbeLine(
                name=p.get("name", "?"),
                expected=p.get("expected", "?"),
                observed=p.get("observed", "?"),
                outcome=p.get("outcome", "?"),
                ip=ev.get("ip"),
                tls_version=ev.get("tls_version"),
                elapsed_ms=ev.get("elapsed_ms"),
                sni=ev.get("sni"),
            )
        )
    return Evidence(
        step=step,
        verdict=verdict,
        url=doc.get("url", "?"),
        started=str(doc.get("started", "?")),
        old_key_fingerprint=old_key_fingerprint,
        probes=tuple(probes),
        reasons=tuple(doc.get("reasons", ())),
    )


def workspace_snapshot(campaign: Any) -> Snapshot:
    """The workspace view of an open ``Campaign`` (read only: nothing is written)."""
    from workbench.inventory import find_findings
    from workbench.migration import status_report
    from workbench.workspace import verify_audit

    ws, inv = campaign.workspace, campaign.inventory
    report = status_report(campaign)
    plan = ws.plan() or {"waves": []}
    by_key = {s.step.key: s for s in report.steps}
    states = {k: s.step.state for k, s in by_key.items()}
    certs = {
        k: tuple(CertificateLine(c.service, c.serial, c.not_after) for c in s.certificates)
        for k, s in by_key.items()
    }
    fingerprints = {k: s.step.key_fingerprint for k, s in by_key.items()}
    ordered, details = _details(inv, plan, states, certs, fingerprints)
    rows = []
    for w, s in ordered:
        st = by_key.get(s["key"])
        rows.append(
            StepRow(
                st.step.wave if st else w,
                s["key"],
                s["api"],
                tuple(s["consumers"]),
                s["score"],
                st.step.state if st else "planned",
                st.latest_verdict if st else None,
            )
        )
    evidence = {}
    for key in by_key:
        v = ws.latest_verdict(key)
        if v is not None:
            evidence[key] = evidence_from_document(
                key, v.verdict, v.old_key_fingerprint, json.loads(v.evidence_json)
            )
    check = verify_audit(ws)
    records = ws.audit_records()
    audit = AuditSummary(
        check.ok, check.reason, check.count, check.head_hash, tuple(records[-AUDIT_ROWS:])
    )
    return Snapshot(
        mode="workspace",
        title=f"workspace {Path(ws.directory).name} ({report.trust_domain})",
        now=report.now,
        rows=tuple(rows),
        details=MappingProxyType(details),
        evidence=MappingProxyType(evidence),
        audit=audit,
        findings=tuple(find_findings(inv, today=report.now.date())),
    )
