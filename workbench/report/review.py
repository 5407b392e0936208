"""The cut-over review: per wave and step, what was proven, how long it took, what is left.

Read-only over one workspace: every recorded verdict with its probe matrix (probe x entry
point) and timing, each caller's last use of the old key (from the gateway's access log,
when the key's value and the log can be read), and the steps not retired yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.states import VERDICTS_WORST_FIRST, StepState, Verdict
from workbench.verify.reading import ProbeReading, VerdictReading

__all__ = [
    "CallerUsage",
    "CutoverReview",
    "ProbeCell",
    "StepReview",
    "VerdictRun",
    "WaveReview",
    "cutover_review",
    "probe_cells",
]


@dataclass(frozen=True)
class ProbeCell:
    """One probe of one run at one entry point."""

    probe: str
    """Probe name, e.g. ``old-key-only``, ``positive-control``."""
    entry_point: str
    """Where it went: URL, plus the pinned address when the URL names a host."""
    outcome: str
    """``pass``, ``fail`` or ``inconclusive`` (as the verifier judged it)."""
    observed: str
    """What came back, e.g. ``HTTP 401``, ``TLS alert ...``."""


@dataclass(frozen=True)
class VerdictRun:
    """One recorded verification of a step."""

    id: int
    verdict: Verdict
    started_at: datetime
    finished_at: datetime
    cells: tuple[ProbeCell, ...]
    reasons: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class CallerUsage:
    """A caller that presented the step's old key, and when it did so last."""

    caller: str
    requests: int
    last_seen: datetime


@dataclass(frozen=True)
class StepReview:
    """One step as the review shows it."""

    key: str
    wave: int
    api: str | None
    state: StepState
    consumers: tuple[str, ...]
    cut_over_at: datetime | None
    runs: tuple[VerdictRun, ...]
    """Every verification, oldest first."""
    callers: tuple[CallerUsage, ...]
    """Old-key use per caller, most recent first (empty when unknown or none)."""
    usage_note: str | None
    """Why the old-key use is unknown, if it is."""

    @property
    def latest(self) -> VerdictRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def retired(self) -> bool:
        return self.state == StepState.VERIFIED


@dataclass(frozen=True)
class WaveReview:
    number: int
    steps: tuple[StepReview, ...]

    @property
    def verdict(self) -> Verdict | str:
        """PASS only when every step's latest verdict is PASS; ``-`` before any verdict,
        ``INCOMPLETE`` while some steps have none and the others passed."""
        latest = [s.latest.verdict for s in self.steps if s.latest]
        if not latest:
            return "-"
        if len(latest) < len(self.steps):
            worst = [v for v in latest if v != Verdict.PASS]
            return _worst(worst) if worst else "INCOMPLETE"
        return _worst(latest)


def _worst(verdicts: list[Verdict]) -> Verdict:
    return min(verdicts, key=VERDICTS_WORST_FIRST.index)


@dataclass(frozen=True)
class CutoverReview:
    workspace: str
    generated_at: datetime
    waves: tuple[WaveReview, ...]

    @property
    def steps(self) -> tuple[StepReview, ...]:
        return tuple(s for w in self.waves for s in w.steps)

    @property
    def runs(self) -> list[tuple[StepReview, VerdictRun]]:
        return [(s, r) for s in self.steps for r in s.runs]

    @property
    def left(self) -> tuple[StepReview, ...]:
        """Steps whose old key is still accepted somewhere."""
        return tuple(s for s in self.steps if not s.retired)


def _entry_point(probe: ProbeReading) -> str:
    url = str(probe.url or "?")
    return url if not probe.ip or str(probe.ip) in url else f"{url} @{probe.ip}"


def probe_cells(verdict: Any) -> tuple[ProbeCell, ...]:
    """The probe matrix of one verdict (a :class:`VerdictReading` or its document; tolerant:
    unknown shapes give no cells)."""
    if not isinstance(verdict, VerdictReading):
        verdict = VerdictReading.from_document(verdict)
    return tuple(
        ProbeCell(probe=p.name, entry_point=_entry_point(p), outcome=p.outcome, observed=p.observed)
        for p in verdict.probes
    )


def _usage(campaign: Any, step: Any) -> tuple[tuple[CallerUsage, ...], str | None]:
    from workbench.errors import WorkbenchError

    if step.state == StepState.PLANNED:
        return (), "not started"
    try:
        from workbench.migration.usage import step_usage

        report = step_usage(campaign, step.key)
    except (WorkbenchError, ImportError, OSError) as exc:
        return (), f"unknown: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    callers = sorted(
        (CallerUsage(c, n, t) for c, n, t in report.clients),
        key=lambda c: (c.last_seen, c.caller),
        reverse=True,
    )
    return tuple(callers), None


def cutover_review(campaign: Any, *, usage: bool = True) -> CutoverReview:
    """The review of an open campaign (``wb.open_campaign(DIR)``)."""
    ws = campaign.workspace
    runs_by_step: dict[str, list[VerdictRun]] = {}
    for v in ws.verdicts():
        reading = VerdictReading.from_row(v)
        runs_by_step.setdefault(v.step_key, []).append(
            VerdictRun(
                id=v.id,
                verdict=v.verdict,
                started_at=v.started_at,
                finished_at=v.finished_at,
                cells=probe_cells(reading),
                reasons=reading.reasons,
            )
        )
    waves: dict[int, list[StepReview]] = {}
    for s in ws.steps():
        callers, note = _usage(campaign, s) if usage else ((), "not read")
        runs = sorted(runs_by_step.get(s.key, []), key=lambda r: (r.started_at, r.id))
        waves.setdefault(s.wave, []).append(
            StepReview(
                key=s.key,
                wave=s.wave,
                api=s.api,
                state=s.state,
                consumers=s.consumers,
                cut_over_at=s.cut_over_at,
                runs=tuple(runs),
                callers=callers,
                usage_note=note,
            )
        )
    return CutoverReview(
        workspace=str(ws.directory),
        generated_at=campaign.now(),
        waves=tuple(WaveReview(n, tuple(steps)) for n, steps in sorted(waves.items())),
    )
