"""Revocation-drill figures for the program report: time-to-refusal, read from the workspace.

The drills themselves (``workbench drill ...``) are another part of the workbench; this
module only reads what they leave behind, so the report has a slot for them from day one.
A drill result is one JSON file in ``<workspace>/drills/`` (any name ending ``.json``)::

    {"kind": "revoke" | "canary" | "kill-key",
     "finished_at": "2026-12-01T10:00:00+00:00",
     "verdict": "PASS" | "FAIL" | ...,
     "entry_points": [
        {"gateway": "edge", "url": "https://...", "time_to_refusal_s": 1.8,
         "stable_after_s": 2.4}          # null when it was never refused
     ]}

Files that do not have this shape are skipped and counted, never fatal: a report must not
fail because a drill wrote something newer than this reader knows.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["DRILLS_DIR", "DrillSummary", "GatewayDrillTimes", "read_drills"]

DRILLS_DIR = "drills"


@dataclass(frozen=True)
class GatewayDrillTimes:
    """Time-to-refusal of revoked credentials at one gateway, over every drill."""

    gateway: str
    """Gateway id (or kind) as the drill named it."""
    entry_points: int
    """Entry points probed, summed over drills."""
    median_s: float | None
    """Median seconds from revocation to the first refusal (None: never refused)."""
    worst_s: float | None
    """Slowest entry point, seconds."""
    never_refused: int
    """Entry points that still accepted the credential at the drill's deadline."""


@dataclass(frozen=True)
class DrillSummary:
    """Every drill recorded in a workspace."""

    drills: int
    """Drill results read."""
    passed: int
    """Of which PASS."""
    last_at: datetime | None
    """When the latest drill finished."""
    last_verdict: str | None
    """Its verdict."""
    gateways: tuple[GatewayDrillTimes, ...]
    """Per gateway, slowest first."""
    skipped_files: int
    """Files in the drills directory this reader did not understand."""

    @property
    def any(self) -> bool:
        return self.drills > 0


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def read_drills(workspace_dir: str | Path) -> DrillSummary:
    """Summarise ``<workspace_dir>/drills/*.json`` (an empty summary when there is none)."""
    directory = Path(workspace_dir) / DRILLS_DIR
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    skipped = 0
    results: list[tuple[datetime | None, str | None, list[dict]]] = []
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            points = doc["entry_points"]
            if not isinstance(points, list):
                raise TypeError("entry_points")
            finished = doc.get("finished_at")
            when = datetime.fromisoformat(finished) if isinstance(finished, str) else None
            verdict = doc.get("verdict")
            results.append((when, verdict if isinstance(verdict, str) else None, points))
        except (OSError, ValueError, KeyError, TypeError):
            skipped += 1
    times: dict[str, list[float]] = {}
    never: dict[str, int] = {}
    counts: dict[str, int] = {}
    for _, _, points in results:
        for point in points:
            if not isinstance(point, dict):
                continue
            gateway = str(point.get("gateway") or "unnamed")
            counts[gateway] = counts.get(gateway, 0) + 1
            seconds = _number(point.get("time_to_refusal_s"))
            if seconds is None:
                never[gateway] = never.get(gateway, 0) + 1
            else:
                times.setdefault(gateway, []).append(seconds)
    gateways = [
        GatewayDrillTimes(
            gateway=g,
            entry_points=counts[g],
            median_s=statistics.median(times[g]) if times.get(g) else None,
            worst_s=max(times[g]) if times.get(g) else None,
            never_refused=never.get(g, 0),
        )
        for g in counts
    ]
    gateways.sort(key=lambda t: (-(t.never_refused > 0), -(t.worst_s or 0.0), t.gateway))
    dated = sorted((r for r in results if r[0] is not None), key=lambda r: r[0])  # type: ignore[arg-type,return-value]
    last = dated[-1] if dated else (results[-1] if results else None)
    return DrillSummary(
        drills=len(results),
        passed=sum(1 for r in results if r[1] == "PASS"),
        last_at=last[0] if last else None,
        last_verdict=last[1] if last else None,
        gateways=tuple(gateways),
        skipped_files=skipped,
    )
