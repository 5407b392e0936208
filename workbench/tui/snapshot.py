"""What the TUI shows, as frozen values (pure presentation; built in ``views.py``).

No Textual here. Old key values never enter a snapshot: only the fingerprints the core
recorded (req. 11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.verify.reading import ProbeReading, VerdictReading

if TYPE_CHECKING:  # the plan package imports networkx (1 s): not before the first frame
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


# The latest recorded verdict of a step, and its probes: the core's one read model of a
# verdict document (the CLI, the review and the tickets read it too).
Evidence = VerdictReading
ProbeLine = ProbeReading


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
    inventory: Inventory | None = None
    """The inventory the view was built from (for findings computed later)."""
    crls: tuple[Any, ...] = ()
    """Per gateway, the CRL it serves (``workbench.drill.crlinfo.CrlHealth``), as `status`."""

    @property
    def read_only(self) -> bool:
        return self.mode != "workspace"
