"""The program report's figures: how far the move off static keys has come. Values only;
:mod:`workbench.report.collect` reads them from a workspace.

What a steering committee asks, answered from one workspace (its state, audit chain and
inventory) at one moment:

- how many APIs and keys are sender-constrained (``mtls``, ``mtls+token``);
- how much access still hangs on static secrets, by data class;
- how long a key lived between its discovery and its retirement;
- which client certificates expire soon, and which live bound tokens a renewal would break;
- which risky findings are still open (shared, cross-environment, third-party keys);
- how fast a revoked credential is refused (revocation drills), or that none ran yet.

Definitions (so the figures can be checked by hand):
- an API's mode is the ``to_mode`` of its latest recorded gateway change (``key`` if none);
  it is sender-constrained in ``mtls`` or ``mtls+token``;
- a key is retired when its step is ``verified`` (a PASS recorded after its cut-over), or in
  ``cut_over`` again after that (a later gateway mode being proven); a rollback un-retires it;
- a key is discovered when it entered the workspace's plan (the workspace's creation for the
  first plan, else the first audit record about its step);
- a key retired on an API that still accepts other keys counts as ``mtls`` for its consumers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workbench.report.drills import DrillSummary
from workbench.states import CERTIFICATE_ONLY_MODES, GatewayMode

__all__ = [
    "OPEN_FINDING_CODES",
    "SENDER_CONSTRAINED",
    "BoundTokenAtRisk",
    "DataClassRow",
    "ExpiringCertificate",
    "KeyRetirement",
    "OpenFinding",
    "ProgramReport",
]

SENDER_CONSTRAINED = CERTIFICATE_ONLY_MODES
MODE_ORDER = tuple(GatewayMode)
# The findings a committee tracks to zero (the others are hygiene: rotation, triage).
OPEN_FINDING_CODES = {
    "key-shared": "shared",
    "key-spans-environments": "cross-environment",
    "key-third-party": "third-party",
}
DEFAULT_EXPIRY_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class DataClassRow:
    """Keys retired and remaining for one data class (a key counts in each of its API's)."""

    data_class: str
    retired: int
    remaining: int


@dataclass(frozen=True)
class KeyRetirement:
    """One key's path from discovery to retirement."""

    key: str
    api: str
    discovered_at: datetime
    retired_at: datetime | None
    """None while the key is still accepted somewhere."""

    @property
    def days(self) -> float | None:
        """Days from discovery to retirement (None if not retired)."""
        if self.retired_at is None:
            return None
        return (self.retired_at - self.discovered_at).total_seconds() / 86400


@dataclass(frozen=True)
class ExpiringCertificate:
    """An active client certificate that expires within the report's window."""

    service: str
    step: str | None
    serial: str
    not_after: datetime
    days_left: float


@dataclass(frozen=True)
class BoundTokenAtRisk:
    """A live RFC 8705 token bound to a certificate: renewing that certificate breaks it."""

    service: str
    step: str | None
    jti: str
    token_fp: str
    """First 12 hex of SHA-256 of the token; never the token."""
    expires: datetime


@dataclass(frozen=True)
class OpenFinding:
    """A risky fact about a key that is not retired yet."""

    kind: str
    """``shared``, ``cross-environment`` or ``third-party``."""
    key: str
    severity: str
    message: str


@dataclass(frozen=True)
class ProgramReport:
    """Every figure of the program report at ``generated_at``."""

    generated_at: datetime
    workspace: str
    trust_domain: str
    api_modes: dict[str, str]
    """API id -> current mode."""
    key_modes: dict[str, str]
    """Key id -> ``key``, ``dual``, ``mtls`` or ``mtls+token`` as its consumers see it."""
    by_data_class: tuple[DataClassRow, ...]
    retirements: tuple[KeyRetirement, ...]
    expiring: tuple[ExpiringCertificate, ...]
    expiry_window_days: float
    bound_tokens_at_risk: tuple[BoundTokenAtRisk, ...]
    tokens_known: bool
    """False when the token server's record could not be read (then the list says nothing)."""
    open_findings: tuple[OpenFinding, ...]
    drills: DrillSummary
    integrations_total: int
    integrations_on_certificates: int
    notes: tuple[str, ...] = field(default=())
    """Caveats a reader must see (e.g. why a figure is unknown)."""

    # ---- derived figures
    @property
    def apis_total(self) -> int:
        return len(self.api_modes)

    @property
    def apis_sender_constrained(self) -> int:
        return sum(1 for m in self.api_modes.values() if m in SENDER_CONSTRAINED)

    @property
    def keys_total(self) -> int:
        return len(self.key_modes)

    @property
    def keys_retired(self) -> int:
        return sum(1 for r in self.retirements if r.retired_at is not None)

    @property
    def keys_remaining(self) -> int:
        return self.keys_total - self.keys_retired

    def mode_counts(self, what: str) -> dict[str, int]:
        """``apis`` or ``keys`` -> mode -> count, every mode present (zeros included)."""
        modes = self.api_modes if what == "apis" else self.key_modes
        counts = dict.fromkeys(MODE_ORDER, 0)
        for m in modes.values():
            counts[m] = counts.get(m, 0) + 1
        return counts

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        """part/whole as a fraction, None when there is nothing to divide."""
        return part / whole if whole else None

    def retirement_days(self) -> list[float]:
        return [d for r in self.retirements if (d := r.days) is not None]

    def figures(self) -> dict[str, Any]:
        """The headline figures as plain JSON (what `workbench report` writes)."""
        days = sorted(self.retirement_days())
        open_counts = dict.fromkeys(OPEN_FINDING_CODES.values(), 0)
        for f in self.open_findings:
            open_counts[f.kind] += 1
        return {
            "generated_at": self.generated_at.isoformat(),
            "workspace": self.workspace,
            "apis": {
                "total": self.apis_total,
                "sender_constrained": self.apis_sender_constrained,
                "share": self.share(self.apis_sender_constrained, self.apis_total),
                "by_mode": self.mode_counts("apis"),
            },
            "keys": {
                "total": self.keys_total,
                "retired": self.keys_retired,
                "remaining": self.keys_remaining,
                "share_sender_constrained": self.share(self.keys_retired, self.keys_total),
                "by_mode": self.mode_counts("keys"),
                "by_data_class": {
                    r.data_class: {"retired": r.retired, "remaining": r.remaining}
                    for r in self.by_data_class
                },
            },
            "integrations": {
                "total": self.integrations_total,
                "on_certificates": self.integrations_on_certificates,
                "share": self.share(self.integrations_on_certificates, self.integrations_total),
            },
            "discovery_to_retirement_days": {
                "retired": len(days),
                "median": _median(days),
                "max": days[-1] if days else None,
            },
            "certificates_expiring": {
                "window_days": self.expiry_window_days,
                "count": len(self.expiring),
                "soonest": min((c.not_after for c in self.expiring), default=None),
            },
            "bound_tokens_broken_by_renewal": (
                len(self.bound_tokens_at_risk) if self.tokens_known else None
            ),
            "open_findings": open_counts,
            "revocation_drills": _drill_figures(self.drills),
            "notes": list(self.notes),
        }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _drill_figures(d: DrillSummary) -> dict[str, Any] | str:
    if not d.any:
        return "no drill yet"
    return {
        "drills": d.drills,
        "passed": d.passed,
        "last_at": d.last_at,
        "last_verdict": d.last_verdict,
        "last_kind": d.last_kind,
        "gateways": [
            {
                "gateway": g.gateway,
                "drills": g.drills,
                "entry_points": g.entry_points,
                "median_time_to_refusal_s": g.median_s,
                "worst_time_to_refusal_s": g.worst_s,
                "never_refused": g.never_refused,
            }
            for g in d.gateways
        ],
    }
