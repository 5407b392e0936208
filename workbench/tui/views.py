"""Build :class:`~workbench.tui.snapshot.Snapshot` values from core objects (no Textual).

The planning view is built from an inventory and its ``Plan``; the workspace view from an
open campaign. Step details are lazy (:class:`StepDetails`): the table needs only the rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the plan package imports networkx (1 s): not before the first frame
    from workbench.inventory.model import Finding, Inventory
    from workbench.plan.model import Reason
from workbench.states import StepState
from workbench.tui.snapshot import (
    AUDIT_ROWS,
    AuditSummary,
    CertificateLine,
    ConsumerLine,
    Evidence,
    Snapshot,
    StepDetail,
    StepRow,
)

__all__ = [
    "PlanStep",
    "StepDetails",
    "evidence_from_document",
    "planning_snapshot",
    "snapshot_findings",
    "workspace_snapshot",
]


@dataclass(frozen=True)
class PlanStep:
    """What the plan says about one step (from a ``Plan`` or a stored plan document)."""

    wave: int
    key: str
    api: str
    owner: str
    environment: str
    score: float
    reasons: tuple[Any, ...]
    """``Reason``s (from a ``Plan``) or their dicts (from a stored plan document)."""
    consumers: tuple[str, ...]
    flags: tuple[str, ...]


def plan_steps_from_plan(plan: Any) -> list[PlanStep]:
    """The steps of a ``workbench.plan.Plan`` in plan order (no ``to_dict``: 1 s at 100k)."""
    return [
        PlanStep(
            wave.number,
            s.key,
            s.api,
            s.owner,
            s.environment,
            s.score,
            tuple(s.reasons),
            tuple(s.consumers),
            tuple(s.flags),
        )
        for wave in plan.waves
        for s in wave.steps
    ]


def plan_steps_from_document(doc: Mapping[str, Any]) -> list[PlanStep]:
    """The steps of a stored plan document (``Plan.to_dict()`` shape) in plan order.

    The reasons stay the document's dicts until a detail is built (:func:`_reasons`):
    ``workbench.plan`` imports networkx, half a second the table need not wait for."""
    return [
        PlanStep(
            wave["number"],
            s["key"],
            s["api"],
            s["owner"],
            s["environment"],
            s["score"],
            tuple(s["reasons"]),
            tuple(s["consumers"]),
            tuple(s.get("flags", ())),
        )
        for wave in doc.get("waves", ())
        for s in wave["steps"]
    ]


class StepDetails(Mapping[str, StepDetail]):
    """Step key -> :class:`StepDetail`, computed when first asked for.

    The graph (for blast radii) is built once, on :meth:`warm` or the first lookup: at 100k
    integrations building every detail up front cost more than the plan itself.
    """

    def __init__(
        self,
        inv: Inventory,
        steps: list[PlanStep],
        *,
        states: Mapping[str, str] | None = None,
        certificates: Mapping[str, tuple[CertificateLine, ...]] | None = None,
        fingerprints: Mapping[str, str | None] | None = None,
        graph: Any = None,
    ) -> None:
        self._inv = inv
        self._steps = {s.key: s for s in steps}
        self._states = states or {}
        self._certificates = certificates or {}
        self._fingerprints = fingerprints or {}
        self._graph = graph
        self._cache: dict[str, StepDetail] = {}

    def warm(self) -> None:
        """Build the dependency graph now (call it in a worker, not on the UI thread)."""
        if self._graph is None:
            from workbench.graph import build_graph

            self._graph = build_graph(self._inv)

    def __getitem__(self, key: str) -> StepDetail:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._build(self._steps[key])
        return found

    def __iter__(self):
        return iter(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    def __contains__(self, key: object) -> bool:
        return key in self._steps

    def _build(self, s: PlanStep) -> StepDetail:
        self.warm()
        inv = self._inv
        blast = self._graph.blast_radius(s.key)
        consumers = []
        for sid in s.consumers:
            svc = inv.services_by_id.get(sid)
            if svc is not None:
                consumers.append(
                    ConsumerLine(sid, svc.owner, svc.exposure, svc.environment, svc.third_party)
                )
        return StepDetail(
            key=s.key,
            api=s.api,
            owner=s.owner,
            environment=s.environment,
            wave=s.wave,
            score=s.score,
            reasons=_reasons(s.reasons),
            consumers=tuple(consumers),
            blast_services=blast.services,
            blast_apis=blast.apis,
            flags=s.flags,
            state=self._states.get(s.key, StepState.PLANNED.value),
            certificates=self._certificates.get(s.key, ()),
            fingerprint=self._fingerprints.get(s.key),
        )


def _reasons(reasons: tuple[Any, ...]) -> tuple[Reason, ...]:
    """``Reason``s from a plan's reasons or a stored plan document's dicts."""
    from workbench.plan.model import Reason

    return tuple(Reason(**r) if isinstance(r, Mapping) else r for r in reasons)


def planning_snapshot(
    inv: Inventory, plan: Any, *, now: datetime, graph: Any = None, findings: bool = True
) -> Snapshot:
    """The read-only planning view of ``inv`` and its ``Plan``.

    ``findings=False`` leaves them out (the app computes them after the table is shown)."""
    steps = plan_steps_from_plan(plan)
    fingerprints = {k.id: k.fingerprint for k in inv.keys}
    details = StepDetails(inv, steps, fingerprints=fingerprints, graph=graph)
    rows = tuple(
        StepRow(s.wave, s.key, s.api, s.consumers, s.score, StepState.PLANNED.value, None)
        for s in steps
    )
    return Snapshot(
        mode="plan",
        title=f"planning view: {Path(inv.source).name if inv.source else 'inventory'} (read-only)",
        now=now,
        rows=rows,
        details=details,
        findings=snapshot_findings(inv, now) if findings else (),
        inventory=inv,
    )


def snapshot_findings(inv: Inventory, now: datetime) -> tuple[Finding, ...]:
    """The inventory's findings as of ``now``."""
    from workbench.inventory import find_findings

    return tuple(find_findings(inv, today=now.date()))


def evidence_from_document(
    step: str, verdict: str, old_key_fingerprint: str, doc: Mapping[str, Any]
) -> Evidence:
    """An :class:`Evidence` from a stored verdict document (``verdict_document``'s shape)."""
    return Evidence.from_document(
        doc, verdict=verdict, step=step, old_key_fingerprint=old_key_fingerprint
    )


def workspace_snapshot(campaign: Any, *, findings: bool = True) -> Snapshot:
    """The workspace view of an open ``Campaign`` (read only: nothing is written)."""
    from workbench.migration import status_report
    from workbench.workspace import verify_audit

    ws, inv = campaign.workspace, campaign.inventory
    report = status_report(campaign)
    steps = plan_steps_from_document(ws.plan() or {"waves": []})
    by_key = {s.step.key: s for s in report.steps}
    states = {k: s.step.state for k, s in by_key.items()}
    certs = {
        k: tuple(CertificateLine(c.service, c.serial, c.not_after) for c in s.certificates)
        for k, s in by_key.items()
    }
    evidence = {}
    for key in by_key:
        v = ws.latest_verdict(key)
        if v is not None:
            evidence[key] = evidence_from_document(
                key, v.verdict, v.old_key_fingerprint, json.loads(v.evidence_json)
            )
    # The plan's fingerprint when the inventory gave one, else that of the key last probed.
    fingerprints = {
        k: s.step.key_fingerprint or (evidence[k].old_key_fingerprint if k in evidence else None)
        for k, s in by_key.items()
    }
    details = StepDetails(inv, steps, states=states, certificates=certs, fingerprints=fingerprints)
    rows = []
    for s in steps:
        st = by_key.get(s.key)
        rows.append(
            StepRow(
                st.step.wave if st else s.wave,
                s.key,
                s.api,
                s.consumers,
                s.score,
                st.step.state if st else StepState.PLANNED.value,
                st.latest_verdict if st else None,
            )
        )
    check = verify_audit(ws)
    records = ws.audit_records()
    audit = AuditSummary(
        check.ok, check.reason, check.count, check.head_hash, tuple(records[-AUDIT_ROWS:])
    )
    from workbench.drill.status import crl_status

    return Snapshot(
        mode="workspace",
        title=f"workspace {Path(ws.directory).name} ({report.trust_domain})",
        now=report.now,
        rows=tuple(rows),
        details=details,
        evidence=MappingProxyType(evidence),
        audit=audit,
        findings=snapshot_findings(inv, report.now) if findings else (),
        inventory=inv,
        crls=tuple(crl_status(campaign)),
    )
