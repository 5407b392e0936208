"""`workbench status`: steps with their state, certificates with their expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workbench.migration.campaign import Campaign
from workbench.workspace import CertificateRecord, Step


@dataclass(frozen=True)
class StepStatus:
    """One step as `status` shows it."""

    step: Step
    """The stored step."""
    certificates: tuple[CertificateRecord, ...]
    """Its active client certificates."""
    latest_verdict: str | None
    """PASS/FAIL/INCONCLUSIVE/ERROR of the latest verification, if any."""


@dataclass(frozen=True)
class StatusReport:
    """The whole workspace at a glance."""

    directory: str
    trust_domain: str
    now: datetime
    steps: tuple[StepStatus, ...]
    gateway_certificates: tuple[CertificateRecord, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.steps:
            out[s.step.state] = out.get(s.step.state, 0) + 1
        return out


def status_report(campaign: Campaign) -> StatusReport:
    ws = campaign.workspace
    active = ws.active_certificates()
    by_step: dict[str, list[CertificateRecord]] = {}
    for c in active:
        if c.step_key:
            by_step.setdefault(c.step_key, []).append(c)
    steps = []
    for s in ws.steps():
        v = ws.latest_verdict(s.key)
        steps.append(StepStatus(s, tuple(by_step.get(s.key, ())), v.verdict if v else None))
    return StatusReport(
        directory=str(ws.directory),
        trust_domain=ws.info().trust_domain,
        now=campaign.now(),
        steps=tuple(steps),
        gateway_certificates=tuple(c for c in active if c.kind == "server"),
    )
