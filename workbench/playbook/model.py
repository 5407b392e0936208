"""What a change ticket is made of: a frozen value tree the caller fills from plan, workspace,
verifier and gateway logs. No I/O.

Every text field must be a plain ``str`` (a :class:`~workbench.secrets.SecretValue` or any other
object is refused at construction, requirement 11): the only trace of the old key a ticket may
carry is its fingerprint, which must be hex. Lists are accepted and stored as tuples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workbench.errors import PlaybookError
from workbench.playbook._checks import _check, _hex, _items, _refuse
from workbench.playbook.commands import (
    DEFAULT_PROBES,
    DEFAULT_ROLLBACK_PROBES,
    Command,
    CommandSet,
    ProbeSpec,
    default_commands,
)
from workbench.states import Verdict

__all__ = [
    "DEFAULT_PROBES",
    "DEFAULT_ROLLBACK_PROBES",
    "ApiRef",
    "AuditRef",
    "CertificateRef",
    "ClientUsage",
    "Command",
    "CommandSet",
    "ConsumerRef",
    "KeyUsage",
    "ProbeResult",
    "ProbeSpec",
    "RiskReason",
    "Schedule",
    "TicketContext",
    "VerdictRecord",
    "WaveContext",
    "default_commands",
]


@dataclass(frozen=True)
class ApiRef:
    """The API whose static key is retired."""

    id: str
    """API id from the inventory."""
    url: str
    """Base URL the verifier probes."""
    owner: str
    """Owning team."""
    environment: str
    """prod, staging, dev, ..."""
    data_classes: tuple[str, ...] = ()
    """Sensitivity labels."""
    provided_by: str | None = None
    """Service that serves the API, if known (drawn in the picture)."""

    def __post_init__(self) -> None:
        _check(
            self,
            text=("id", "url", "owner", "environment"),
            opt_text=("provided_by",),
            tuples=("data_classes",),
        )
        _items("ApiRef", "data_classes", self.data_classes, str)


@dataclass(frozen=True)
class ConsumerRef:
    """A service that must move from the key to its client certificate."""

    service: str
    """Service id."""
    owner: str
    """Owning team (an approver)."""
    environment: str
    """prod, staging, dev, ..."""
    exposure: str = "internal"
    """internet | partner | internal."""

    def __post_init__(self) -> None:
        _check(self, text=("service", "owner", "environment", "exposure"))


@dataclass(frozen=True)
class RiskReason:
    """One factor of the step's score."""

    factor: str
    """Factor name from the policy."""
    contribution: float
    """Points it adds."""
    detail: str
    """Why, in words."""

    def __post_init__(self) -> None:
        _check(self, text=("factor", "detail"))
        if isinstance(self.contribution, bool) or not isinstance(self.contribution, int | float):
            raise PlaybookError("RiskReason.contribution must be a number")


@dataclass(frozen=True)
class Schedule:
    """When the change happens and how long both credentials are accepted."""

    planned_start: datetime
    """Start of the change window (timezone-aware)."""
    overlap_days: int
    """Days the gateway accepts both key and certificate (``dual``) before the cut-over."""

    def __post_init__(self) -> None:
        _check(self, times=("planned_start",))
        if (
            isinstance(self.overlap_days, bool)
            or not isinstance(self.overlap_days, int)
            or (self.overlap_days < 0)
        ):
            raise PlaybookError("Schedule.overlap_days must be a whole number >= 0")

    @property
    def cutover_due(self) -> datetime:
        """End of the overlap: when the old key is refused (the ticket's due date)."""
        return self.planned_start + timedelta(days=self.overlap_days)


@dataclass(frozen=True)
class CertificateRef:
    """A client certificate deployed for one consumer."""

    service: str
    """Consumer service id."""
    serial: str
    """Serial number, lowercase hex."""
    sha256: str
    """SHA-256 fingerprint of the DER, 64 lowercase hex."""
    not_after: datetime
    """Expiry (timezone-aware)."""
    config_files: tuple[str, ...] = ()
    """Paths of the rendered client/gateway config files that use it."""

    def __post_init__(self) -> None:
        _check(self, text=("service",), tuples=("config_files",), times=("not_after",))
        _hex("CertificateRef", "serial", self.serial, (1, 40))
        _hex("CertificateRef", "sha256", self.sha256, (64, 64))
        _items("CertificateRef", "config_files", self.config_files, str)


@dataclass(frozen=True)
class ClientUsage:
    """Use of the old key by one client as seen in the gateway logs."""

    client: str
    """Client address, user agent or service id: whatever tells callers apart."""
    count: int
    """Requests seen."""
    last_seen: datetime | None
    """Latest request."""

    def __post_init__(self) -> None:
        _check(self, text=("client",), times=("last_seen",))
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise PlaybookError("ClientUsage.count must be a whole number >= 0")


@dataclass(frozen=True)
class KeyUsage:
    """What the gateway logs say about the old key (``None`` on a ticket means no data)."""

    source: str
    """The log(s) read."""
    clients: tuple[ClientUsage, ...]
    """Per client, most active first."""
    since: datetime | None = None
    """Start of the measured window, if bounded."""

    def __post_init__(self) -> None:
        _check(self, text=("source",), tuples=("clients",), times=("since",))
        _items("KeyUsage", "clients", self.clients, ClientUsage)

    @property
    def total(self) -> int:
        """Requests by every client."""
        return sum(c.count for c in self.clients)


def _scalar(value: object) -> str:
    if type(value) is str:
        return value
    if value is None or isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # enums such as Outcome
        return value.value
    if isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes (not shown)"  # raw bodies stay out of tickets
    if isinstance(value, list | tuple):
        return ", ".join(_scalar(v) for v in value)
    raise _refuse("ProbeResult", "evidence", value, "text or a number")


@dataclass(frozen=True)
class ProbeResult:
    """One probe of a recorded verdict, as judged."""

    name: str
    """Probe name."""
    expected: str
    """``accepted`` or ``refused``."""
    observed: str
    """What came back, e.g. ``HTTP 401``."""
    outcome: str
    """``pass``, ``fail`` or ``inconclusive``."""
    evidence: tuple[tuple[str, str], ...] = ()
    """Raw observation as (field, value) pairs: URL, IP, SNI, TLS version, status ..."""

    def __post_init__(self) -> None:
        _check(self, text=("name", "expected", "observed", "outcome"), tuples=("evidence",))
        for pair in self.evidence:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise PlaybookError("ProbeResult.evidence must be (field, value) pairs")
            for part in pair:
                if type(part) is not str:
                    raise _refuse("ProbeResult", "evidence", part, "text")

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any]) -> ProbeResult:
        """From the verifier's probe dict (or a dataclass such as ``ProbeRecord``)."""
        d = _as_mapping(d)
        ev = _as_mapping(d.get("evidence") or {})
        pairs = tuple((str(k), _scalar(v)) for k, v in ev.items() if v is not None)
        return cls(d["name"], d["expected"], d["observed"], _scalar(d["outcome"]), pairs)


def _as_mapping(obj: Any) -> Mapping[str, Any]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return obj
    raise _refuse("VerdictRecord", "input", obj, "a mapping or dataclass")


@dataclass(frozen=True)
class VerdictRecord:
    """The latest recorded verdict of the step's verification."""

    verdict: str
    """PASS, FAIL, INCONCLUSIVE or ERROR."""
    probes: tuple[ProbeResult, ...]
    """Every probe in run order."""
    reasons: tuple[str, ...]
    """Why, in sentences."""
    started: datetime
    """Run start."""
    finished: datetime
    """Run end."""

    def __post_init__(self) -> None:
        _check(self, text=("verdict",), tuples=("probes", "reasons"), times=("started", "finished"))
        if self.verdict not in list(Verdict):
            raise PlaybookError(f"VerdictRecord.verdict must be one of {', '.join(Verdict)}")
        _items("VerdictRecord", "probes", self.probes, ProbeResult)
        _items("VerdictRecord", "reasons", self.reasons, str)

    @classmethod
    def from_mapping(cls, d: Any) -> VerdictRecord:
        """From the verifier's verdict dict or ``workbench.verify.Verdict``."""
        d = _as_mapping(d)
        started, finished = d["started"], d["finished"]
        if isinstance(started, str):
            started, finished = datetime.fromisoformat(started), datetime.fromisoformat(finished)
        probes = tuple(ProbeResult.from_mapping(p) for p in d["probes"])
        verdict = d["verdict"]
        if isinstance(verdict, Verdict):  # a ticket holds plain text (yaml.safe_dump)
            verdict = verdict.value
        return cls(verdict, probes, tuple(d.get("reasons") or ()), started, finished)


@dataclass(frozen=True)
class AuditRef:
    """One audit-log record about this step (hash-chained)."""

    seq: int
    """Position in the log."""
    action: str
    """What was recorded (issue, gateway-mode, verdict ...)."""
    hash: str
    """The record's hash, hex."""

    def __post_init__(self) -> None:
        _check(self, text=("action",))
        if isinstance(self.seq, bool) or not isinstance(self.seq, int):
            raise PlaybookError("AuditRef.seq must be a whole number")
        _hex("AuditRef", "hash", self.hash, (8, 128))


@dataclass(frozen=True)
class TicketContext:
    """Everything one change ticket (one plan step) says."""

    step_key: str
    """The key id: the step, and part of the file name (safe id only)."""
    api: ApiRef
    """The API that accepts the key."""
    consumers: tuple[ConsumerRef, ...]
    """Services moving to certificates."""
    wave: int
    """Wave number (1-based)."""
    score: float
    """Risk score (0-100 with the default policy)."""
    reasons: tuple[RiskReason, ...]
    """Score decomposition."""
    schedule: Schedule
    """Change window and overlap."""
    key_fingerprint: str | None
    """First 12 hex of SHA-256 of the old key: the only trace of it in any export."""
    gateway_mode: str = "unknown"
    """The gateway's mode for this step now (``key-only``, ``dual``, ``cert-only`` ...)."""
    certificates: tuple[CertificateRef, ...] = ()
    """Client certificates deployed for the consumers."""
    usage: KeyUsage | None = None
    """Old key use from the gateway logs; ``None`` = no data."""
    commands: CommandSet | None = None
    """Commands by phase; ``None`` = :func:`default_commands` for ``step_key``/``workspace``."""
    probes: tuple[ProbeSpec, ...] = DEFAULT_PROBES
    """Probes the verifier runs after the change."""
    rollback_probes: tuple[ProbeSpec, ...] = DEFAULT_ROLLBACK_PROBES
    """Probes that prove the rollback."""
    verdict: VerdictRecord | None = None
    """Latest recorded verdict; ``None`` = never verified."""
    audit: tuple[AuditRef, ...] = ()
    """Audit records about the step."""
    audit_head: AuditRef | None = None
    """The last record of the audit chain at export time: the state this ticket shows is
    bound to it (``workbench audit verify --anchor SEQ:HASH`` fails once it is gone)."""
    mermaid: str | None = None
    """Mermaid flowchart of the key's neighbourhood; refused text or ``None`` = derived."""
    workspace: str | None = None
    """Workspace path used in the default commands."""
    notes: str | None = None
    """Free text for the change board."""
    extra_labels: tuple[str, ...] = field(default=())
    """More labels for the CSV import."""

    def __post_init__(self) -> None:
        _check(
            self,
            text=("step_key", "gateway_mode"),
            opt_text=("key_fingerprint", "mermaid", "workspace", "notes"),
            tuples=(
                "consumers",
                "reasons",
                "certificates",
                "probes",
                "rollback_probes",
                "audit",
                "extra_labels",
            ),
        )
        if self.key_fingerprint is not None:  # None: the value was not at hand at export
            _hex("TicketContext", "key_fingerprint", self.key_fingerprint, (12, 64))
        for name, kind in (("api", ApiRef), ("schedule", Schedule)):
            if not isinstance(getattr(self, name), kind):
                raise _refuse("TicketContext", name, getattr(self, name), kind.__name__)
        for name, opt in (
            ("usage", KeyUsage),
            ("commands", CommandSet),
            ("verdict", VerdictRecord),
            ("audit_head", AuditRef),
        ):
            v = getattr(self, name)
            if v is not None and not isinstance(v, opt):
                raise _refuse("TicketContext", name, v, opt.__name__)
        for name, kind in (
            ("consumers", ConsumerRef),
            ("reasons", RiskReason),
            ("certificates", CertificateRef),
            ("probes", ProbeSpec),
            ("rollback_probes", ProbeSpec),
            ("audit", AuditRef),
            ("extra_labels", str),
        ):
            _items("TicketContext", name, getattr(self, name), kind)
        if isinstance(self.wave, bool) or not isinstance(self.wave, int) or self.wave < 1:
            raise PlaybookError("TicketContext.wave must be a whole number >= 1")
        if isinstance(self.score, bool) or not isinstance(self.score, int | float):
            raise PlaybookError("TicketContext.score must be a number")

    @property
    def effective_commands(self) -> CommandSet:
        """The given commands, or the defaults for this step."""
        return self.commands or default_commands(self.step_key, self.workspace)


@dataclass(frozen=True)
class WaveContext:
    """One wave: its tickets, carried out together."""

    number: int
    """Wave number (1-based)."""
    tickets: tuple[TicketContext, ...]
    """In plan order."""
    notes: str | None = None
    """Free text for the wave summary."""

    def __post_init__(self) -> None:
        _check(self, opt_text=("notes",), tuples=("tickets",))
        _items("WaveContext", "tickets", self.tickets, TicketContext)
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise PlaybookError("WaveContext.number must be a whole number >= 1")
