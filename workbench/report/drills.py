"""Revocation-drill figures for the program report: time-to-refusal per gateway.

The drills (``workbench drill revoke|canary|kill-key``, :mod:`workbench.drill`) store every
run in the workspace; this module only summarises what they stored, through the drill
store's own readers, so the report says "no drill yet" until one has run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.states import Verdict

__all__ = ["DrillSummary", "GatewayDrillTimes", "read_drills"]


@dataclass(frozen=True)
class GatewayDrillTimes:
    """Time-to-refusal of revoked credentials at one gateway."""

    gateway: str
    """Gateway id, with the software answering (e.g. ``lab (python)``, ``edge (nginx)``)."""
    drills: int
    """Drills that probed it."""
    entry_points: int
    """Entry point addresses the latest drill probed behind it."""
    median_s: float | None
    """Median seconds from revocation to a stable refusal, latest drill (None: none refused)."""
    worst_s: float | None
    """Slowest entry point over every drill, seconds."""
    never_refused: int
    """Entry points that still accepted a revoked credential at the latest drill's deadline."""


@dataclass(frozen=True)
class DrillSummary:
    """Every drill recorded in a workspace."""

    drills: int
    """Drill runs recorded."""
    passed: int
    """Of which PASS."""
    last_at: datetime | None
    """When the latest drill finished."""
    last_verdict: str | None
    """Its verdict."""
    last_kind: str | None
    """``revoke``, ``canary`` or ``kill-key``."""
    gateways: tuple[GatewayDrillTimes, ...]
    """Per gateway, any that never refused first, then slowest first."""

    @property
    def any(self) -> bool:
        return self.drills > 0


NO_DRILL = DrillSummary(0, 0, None, None, None, ())


def read_drills(workspace: Any) -> DrillSummary:
    """Summarise the drills stored in an open ``Workspace`` (``NO_DRILL`` when none ran)."""
    from workbench.drill.store import drill_figures, list_drills

    runs = list_drills(workspace)
    if not runs:
        return NO_DRILL
    by_gateway: dict[str, list[dict]] = {}
    for row in drill_figures(workspace):  # oldest first
        name = f"{row['gateway']} ({row['server']})" if row.get("server") else row["gateway"]
        by_gateway.setdefault(name, []).append(row)
    gateways = []
    for name, rows in by_gateway.items():
        latest = rows[-1]
        worst = [r["worst_s"] for r in rows if r["worst_s"] is not None]
        gateways.append(
            GatewayDrillTimes(
                gateway=name,
                drills=len({r["drill_id"] for r in rows}),
                entry_points=int(latest["entry_points"] or 0),
                median_s=latest["median_s"],
                worst_s=max(worst) if worst else None,
                never_refused=int(latest["entry_points"] or 0) - int(latest["refused"] or 0),
            )
        )
    gateways.sort(key=lambda g: (-(g.never_refused > 0), -(g.worst_s or 0.0), g.gateway))
    last = runs[-1]
    return DrillSummary(
        drills=len(runs),
        passed=sum(1 for r in runs if r["verdict"] == Verdict.PASS),
        last_at=datetime.fromisoformat(last["finished_at"]),
        last_verdict=last["verdict"],
        last_kind=last["kind"],
        gateways=tuple(gateways),
    )
