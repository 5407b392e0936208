"""The workbench TUI: waves and steps, step detail, evidence, audit log and findings.

Built from a source (``PlanningSource`` or ``WorkspaceSource``) so tests build it the way
``workbench tui`` does. Step actions run in thread workers (the core is synchronous) with
a progress strip; a ``WorkbenchError`` becomes a one-line notification, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from workbench.errors import PKIError, WorkbenchError
from workbench.migration.campaign import PASSPHRASE_ENV
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.screens.confirm import ConfirmScreen
from workbench.tui.screens.passphrase import PassphraseScreen
from workbench.tui.snapshot import Snapshot
from workbench.tui.source import ACTIONS, NEEDS_CA, ActionResult
from workbench.tui.widgets.audit import AuditView
from workbench.tui.widgets.detail import StepDetailPanel
from workbench.tui.widgets.evidence import EvidenceView
from workbench.tui.widgets.findings import FindingsTable
from workbench.tui.widgets.status import ActionStatus
from workbench.tui.widgets.steps import StepsTable

__all__ = ["WorkbenchApp", "one_line"]

ACTION_TITLES = {
    "issue": ("Issue certificates", "a client certificate for every consumer of the step"),
    "dual": ("Set gateway to dual", "accept the certificate or the old key (overlap)"),
    "usage": ("Check old-key usage", "who still sends the old key (gateway log)"),
    "cutover": ("Cut over", "retire the old key, verify, roll back unless PASS"),
    "verify": ("Verify", "probe the step's API again and record the verdict"),
}
TABS = {"plan": "Plan", "evidence": "Evidence", "audit": "Audit log", "findings": "Findings"}
TAB_FOCUS = {
    "plan": "#steps",
    "evidence": "#evidence-probes",
    "audit": "#audit-records",
    "findings": "#findings-table",
}
"""The widget that takes the focus when a tab is shown."""


def one_line(exc: WorkbenchError) -> str:
    """The error's first line, with a count of the others (notifications stay one line)."""
    lines = exc.lines() or [type(exc).__name__]
    more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
    return lines[0] + more


class WorkbenchApp(App[None]):
    """``source`` gives snapshots (and runs actions in workspace mode)."""

    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("i", "issue", "Issue"),
        Binding("d", "dual", "Dual"),
        Binding("u", "usage", "Usage"),
        Binding("c", "cutover", "Cut over"),
        Binding("v", "verify", "Verify"),
        Binding("1", "show_tab('plan')", "Plan", show=False),
        Binding("2", "show_tab('evidence')", "Evidence"),
        Binding("3", "show_tab('audit')", "Audit"),
        Binding("4", "show_tab('findings')", "Findings"),
    ]

    def __init__(self, source, *, snapshot: Snapshot | None = None) -> None:
        super().__init__()
        self.source = source
        self.snapshot: Snapshot | None = snapshot
        self.busy: str | None = None
        """The running action (None when idle)."""
        self.last_result: ActionResult | None = None
        self._secret: str | None = None  # the CA passphrase from the prompt; memory only

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with TabbedContent(initial="plan", id="tabs"):
            with TabPane(TABS["plan"], id="plan"), Vertical(id="plan-view"):
                yield StepsTable(id="steps")
                yield StepDetailPanel(id="detail")
            with TabPane(TABS["evidence"], id="evidence"):
                yield EvidenceView(id="evidence-view")
            with TabPane(TABS["audit"], id="audit"):
                yield AuditView(id="audit-view")
            with TabPane(TABS["findings"], id="findings"):
                yield FindingsTable(id="findings-table")
        yield ActionStatus(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._apply(self.snapshot or self.source.load())
        self.query_one(StepsTable).focus()

    # --- data -----------------------------------------------------------------------------

    @property
    def selected_step(self) -> str | None:
        return self.query_one(StepsTable).selected_key

    def _apply(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.sub_title = snapshot.title
        self.query_one(StepsTable).show(snapshot.rows)
        self.query_one(AuditView).show(snapshot.audit)
        self.query_one(FindingsTable).show(snapshot.findings)
        self._show_selected()

    def _show_selected(self) -> None:
        snap, step = self.snapshot, self.selected_step
        if snap is None:
            return
        detail = snap.details.get(step) if step else None
        self.query_one(StepDetailPanel).show(detail, snap.now, read_only=snap.read_only)
        self.query_one(EvidenceView).show(step, snap.evidence.get(step) if step else None)

    @on(DataTable.RowHighlighted, "#steps")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    # --- simple actions -------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_pane(tab)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._focus_pane(event.pane.id)

    def _focus_pane(self, tab: str) -> None:
        # Focus must follow the pane: TabbedContent switches back to the pane that holds the
        # focused widget, so a focus left in a hidden pane would undo the switch.
        self.query_one(f"#{tab} {TAB_FOCUS[tab]}").focus()

    def action_refresh(self) -> None:
        try:
            self._apply(self.source.load())
        except WorkbenchError as exc:
            self.notify(one_line(exc), title="refresh failed", severity="error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTIONS:
            if self.source.read_only:
                return False  # hidden: the planning view cannot act
            return None if self.busy else True  # shown greyed out while an action runs
        return True

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) for the command palette."""
        out: list[tuple[str, str, Callable[[], object]]] = []
        if not self.source.read_only:
            for action in ACTIONS:
                title, help_text = ACTION_TITLES[action]
                out.append((title, help_text, getattr(self, f"action_{action}")))
        for tab, title in TABS.items():
            out.append(
                (f"Show {title.lower()}", f"switch to the {title.lower()} view", _tab(self, tab))
            )
        out.append(("Refresh", "reload the plan / workspace", self.action_refresh))
        return out

    # --- step actions ---------------------------------------------------------------------

    def action_issue(self) -> None:
        self._request("issue")

    def action_dual(self) -> None:
        self._request("dual")

    def action_usage(self) -> None:
        self._request("usage")

    def action_cutover(self) -> None:
        self._request("cutover")

    def action_verify(self) -> None:
        self._request("verify")

    def _passphrase(self) -> str | None:
        return os.environ.get(PASSPHRASE_ENV) or self._secret

    def _request(self, action: str) -> None:
        if self.source.read_only:
            self.notify("read-only planning view: run `workbench tui --workspace DIR` to act")
            return
        step = self.selected_step
        if step is None:
            self.notify("select a step first", severity="warning")
            return
        if self.busy:
            self.notify(f"{self.busy} is still running", severity="warning")
            return
        if action in NEEDS_CA and not self._passphrase():
            self.push_screen(
                PassphraseScreen(), lambda secret: self._unlocked(secret, action, step)
            )
            return
        self._confirm(action, step)

    def _unlocked(self, secret: str | None, action: str, step: str) -> None:
        if not secret:
            self.notify("no passphrase given: nothing done", severity="warning")
            return
        self._secret = secret
        self._confirm(action, step)

    def _confirm(self, action: str, step: str) -> None:
        if action != "cutover":
            self._start(action, step)
            return
        question = (
            f"Cut over {step}? Its gateway stops accepting the old key, the verifier probes it, "
            "and it is rolled back to dual unless the verdict is PASS."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(action, step)

        self.push_screen(ConfirmScreen(question, "Cut over"), answered)

    def _start(self, action: str, step: str) -> None:
        self.busy = f"{ACTION_TITLES[action][0].lower()} ({step})"
        self.refresh_bindings()
        self.query_one(ActionStatus).start(f"{self.busy}...")
        self._run(action, step)

    @work(thread=True, exclusive=True, group="step-action")
    def _run(self, action: str, step: str) -> None:
        result: ActionResult | None = None
        snapshot: Snapshot | None = None
        try:
            result = self.source.run(
                action,
                step,
                passphrase=self._passphrase,
                progress=lambda done, total: self.call_from_thread(
                    self.query_one(ActionStatus).advance, done, total
                ),
            )
        except WorkbenchError as exc:
            if isinstance(exc, PKIError):
                self._secret = None  # maybe a wrong passphrase: ask again next time
            self.call_from_thread(
                self.notify, one_line(exc), title=f"{action} failed", severity="error"
            )
        try:
            snapshot = self.source.load()
        except WorkbenchError as exc:
            self.call_from_thread(
                self.notify, one_line(exc), title="refresh failed", severity="error"
            )
        self.call_from_thread(self._finish, action, result, snapshot)

    def _finish(self, action: str, result: ActionResult | None, snapshot: Snapshot | None) -> None:
        self.busy = None
        self.query_one(ActionStatus).stop()
        self.refresh_bindings()
        if snapshot is not None:
            self._apply(snapshot)
        if result is not None:
            self.last_result = result
            verdict_action = action in ("cutover", "verify")
            self.notify(
                result.message,
                title=ACTION_TITLES[action][0],
                severity="information" if result.ok else "error",
                timeout=15 if verdict_action else 6,
            )
            if verdict_action:
                self.action_show_tab("evidence")


def _tab(app: WorkbenchApp, tab: str) -> Callable[[], None]:
    return lambda: app.action_show_tab(tab)
