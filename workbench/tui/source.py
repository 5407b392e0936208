"""Where the TUI's data comes from, and where its actions run (no Textual here).

A source is built from domain objects (or a file to load) and handed to the app, so tests
build the app the way ``workbench tui`` does. ``load(progress)`` runs in a worker thread
and reports its stages. :class:`WorkspaceSource` opens a fresh campaign per call, in the
calling thread: the workspace's SQLite connection must not cross threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.inventory.model import Inventory
from workbench.tui.operations import ActionResult, Progress, run_action
from workbench.tui.snapshot import Snapshot
from workbench.tui.views import planning_snapshot, snapshot_findings, workspace_snapshot

__all__ = ["ActionResult", "PlanningSource", "Stage", "WorkspaceSource"]

Clock = Callable[[], datetime]
Stage = Callable[[str], None]
"""``stage("planning 28,571 keys")``: what the loader is doing now."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _quiet(_text: str) -> None:
    return None


@dataclass
class PlanningSource:
    """An inventory and its plan: the read-only planning view.

    Give ``inventory`` and ``plan`` (tests, notebooks), or ``path`` and the plan options:
    then the file is read and planned by :meth:`load`, in the app's loading worker."""

    inventory: Inventory | None = None
    plan: Any = None
    """A ``workbench.plan.Plan``."""
    clock: Clock = _utcnow
    path: Path | None = None
    policy: str | None = None
    strategy: str = "risk-first"
    wave_size: int = 5

    read_only = True

    def load(self, stage: Stage = _quiet) -> Snapshot:
        graph = None
        if self.inventory is None or self.plan is None:
            from workbench.graph import build_graph
            from workbench.inventory import load_inventory
            from workbench.plan import make_plan
            from workbench.policy import load_policy

            policy = load_policy(self.policy)
            size = self.path.stat().st_size / 2**20 if self.path else 0
            stage(f"reading {self.path} ({size:.1f} MiB)")
            inventory = load_inventory(self.path, known_data_classes=policy.known_data_classes)
            stage(f"planning {len(inventory.keys):,} keys")
            graph = build_graph(inventory)  # the plan and the detail panel share it
            self.plan = make_plan(
                inventory,
                policy=policy,
                strategy=self.strategy,
                wave_size=self.wave_size,
                graph=graph,
            )
            self.inventory = inventory
        stage(f"drawing {len(self.plan.steps):,} steps")
        return planning_snapshot(
            self.inventory, self.plan, now=self.clock(), graph=graph, findings=False
        )

    def findings(self, snapshot: Snapshot) -> tuple:
        return snapshot_findings(snapshot.inventory, snapshot.now) if snapshot.inventory else ()


@dataclass
class WorkspaceSource:
    """A workspace directory: the full app with actions."""

    directory: Path
    clock: Clock | None = None
    """Injected clock for display and operations (None: real time)."""
    verify_timeout: float = 5.0
    """Seconds per probe."""
    old_key_env: dict[str, str] = field(default_factory=dict, repr=False)
    """Old-key values typed into the masked prompt this session (memory only)."""

    read_only = False

    def open(self, passphrase: Callable[[], str | None] | None = None):
        """A fresh campaign (close it: use ``with``)."""
        from workbench.migration import open_campaign
        from workbench.migration.campaign import passphrase_from_env

        campaign = open_campaign(
            self.directory, passphrase=passphrase or passphrase_from_env, clock=self.clock
        )
        campaign.old_key_env = self.old_key_env
        return campaign

    def load(self, stage: Stage = _quiet) -> Snapshot:
        stage(f"opening workspace {self.directory}")
        with self.open() as campaign:
            stage("reading steps, verdicts and the audit chain")
            return workspace_snapshot(campaign, findings=False)

    def findings(self, snapshot: Snapshot) -> tuple:
        return snapshot_findings(snapshot.inventory, snapshot.now) if snapshot.inventory else ()

    def run(
        self,
        action: str,
        step: str | None,
        *,
        wave: int | None = None,
        params: Mapping[str, Any] | None = None,
        passphrase: Callable[[], str | None],
        progress: Progress | None = None,
    ) -> ActionResult:
        """Run one action; raises ``WorkbenchError`` for domain errors."""
        with self.open(passphrase) as campaign:
            return run_action(
                campaign,
                action,
                step,
                wave,
                params or {},
                progress or (lambda d, t: None),
                verify_timeout=self.verify_timeout,
            )
