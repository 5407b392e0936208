"""Where the TUI's data comes from, and the step actions it runs (no Textual here).

A source is built from domain objects and handed to the app, so tests build the app the
way ``workbench tui`` does. :class:`WorkspaceSource` opens a fresh campaign per call, in
the calling thread: the workspace's SQLite connection must not cross threads, and the
actions run in worker threads. Each action returns a one-line summary; domain failures
stay ``WorkbenchError``s for the app to show with ``notify``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.inventory.model import Inventory
from workbench.tui.snapshot import Snapshot, planning_snapshot, workspace_snapshot

__all__ = ["ACTIONS", "ActionResult", "PlanningSource", "WorkspaceSource"]

Clock = Callable[[], datetime]
Progress = Callable[[int, int | None], None]
"""``progress(done, total)``; total None when unknown."""

ACTIONS = ("issue", "dual", "usage", "cutover", "verify")
NEEDS_CA = frozenset({"issue", "cutover", "verify"})
"""Actions that unlock the CA key (they need the passphrase)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ActionResult:
    """What a step action did, for a notification."""

    message: str
    """One line for a person."""
    ok: bool = True
    """False for a check that ran and failed (FAIL verdict, key still in use)."""


@dataclass(frozen=True)
class PlanningSource:
    """An inventory and its plan: the read-only planning view."""

    inventory: Inventory
    plan: Any
    """A ``workbench.plan.Plan``."""
    clock: Clock = _utcnow

    read_only = True

    def load(self) -> Snapshot:
        return planning_snapshot(self.inventory, self.plan, now=self.clock())


@dataclass(frozen=True)
class WorkspaceSource:
    """A workspace directory: the full app with step actions."""

    directory: Path
    clock: Clock | None = None
    """Injected clock for display and operations (None: real time)."""
    verify_timeout: float = 5.0
    """Seconds per probe."""

    read_only = False

    def _open(self, passphrase: Callable[[], str | None] | None = None):
        from workbench.migration import open_campaign
        from workbench.migration.campaign import passphrase_from_env

        return open_campaign(
            self.directory, passphrase=passphrase or passphrase_from_env, clock=self.clock
        )

    def load(self) -> Snapshot:
        with self._open() as campaign:
            return workspace_snapshot(campaign)

    def run(
        self,
        action: str,
        step: str,
        *,
        passphrase: Callable[[], str | None],
        progress: Progress | None = None,
    ) -> ActionResult:
        """Run one step action; raises ``WorkbenchError`` for domain errors."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        with self._open(passphrase) as campaign:
            return getattr(self, f"_{action}")(campaign, step, progress or (lambda d, t: None))

    def _issue(self, campaign, step: str, progress: Progress) -> ActionResult:
        from workbench.migration import issue_step

        total = len(campaign.inventory.consumers_of(step))
        done = 0

        def advance(n: int = 1) -> None:
            nonlocal done
            done += n
            progress(done, total)

        out = issue_step(campaign, step, progress=advance)
        return ActionResult(
            f"{step}: {len(out.issued)} new certificate(s), "
            f"{len(out.certificates)} active; step {out.state}"
        )

    def _dual(self, campaign, step: str, progress: Progress) -> ActionResult:
        from workbench.migration.gateway_ops import set_step_mode

        change = set_step_mode(campaign, step, "dual")
        state = campaign.workspace.step(step).state
        return ActionResult(
            f"{step}: {change.api} {change.from_mode} -> {change.to_mode}; step {state}"
        )

    def _usage(self, campaign, step: str, progress: Progress) -> ActionResult:
        from workbench.migration.usage import step_usage

        usage = step_usage(campaign, step)
        if usage.accepted:
            last = usage.last_accepted.isoformat(timespec="seconds") if usage.last_accepted else "?"
            return ActionResult(
                f"{step}: old key still accepted {usage.accepted} time(s), last {last} "
                f"({', '.join(usage.user_agents) or '?'}): move those consumers first",
                ok=False,
            )
        return ActionResult(f"{step}: no request with the old key was accepted")

    def _cutover(self, campaign, step: str, progress: Progress) -> ActionResult:
        from workbench.migration.verification import cutover

        out = cutover(campaign, step, timeout=self.verify_timeout)
        verdict = out.verdict.verdict if out.verdict else "no verdict"
        if out.rolled_back or verdict != "PASS":
            return ActionResult(
                f"{step}: {verdict}: rolled back to dual (old key re-enabled); step {out.state}",
                ok=False,
            )
        return ActionResult(f"{step}: PASS: cut over and verified; step {out.state}")

    def _verify(self, campaign, step: str, progress: Progress) -> ActionResult:
        from workbench.migration.verification import verify_steps

        [v] = verify_steps(campaign, [step], timeout=self.verify_timeout)
        return ActionResult(f"{step}: {v.verdict}; step {v.state}", ok=v.verdict == "PASS")
