"""The workbench TUI: waves and steps, step detail, evidence, audit log and findings.

Built from a source (``PlanningSource`` or ``WorkspaceSource``) so tests build it the way
``workbench tui`` does. The first frame paints at once; the plan (or workspace) loads in a
thread worker that reports its stages, then the findings and the dependency graph follow
in the same worker. Actions (see :mod:`workbench.tui.flow`) run in thread workers too.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, TabbedContent, TabPane

from workbench.errors import WorkbenchError
from workbench.tui.actions import ACTIONS, palette_title
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.failures import one_line, user_error
from workbench.tui.flow import ActionFlow
from workbench.tui.snapshot import Snapshot
from workbench.tui.widgets.audit import AuditView
from workbench.tui.widgets.detail import StepDetailPanel
from workbench.tui.widgets.evidence import EvidenceView
from workbench.tui.widgets.findings import FindingsTable
from workbench.tui.widgets.footer import KeysFooter
from workbench.tui.widgets.status import ActionStatus
from workbench.tui.widgets.steps import StepsTable

__all__ = ["KEY_ACTIONS", "TABS", "WorkbenchApp", "one_line"]

TABS = {"plan": "Plan", "evidence": "Evidence", "audit": "Audit log", "findings": "Findings"}
TAB_KEYS = {tab: str(n) for n, tab in enumerate(TABS, 1)}
"""The key that shows each tab: on its header, not in the footer (which keeps its width
for the action keys: at 80 columns the view keys pushed cut-over and verify off)."""
TAB_FOCUS = {
    "plan": "#steps",
    "evidence": "#evidence-probes",
    "audit": "#audit-records",
    "findings": "#findings-table",
}
"""The widget that takes the focus when a tab is shown."""
KEY_ACTIONS = {
    "issue": "issue",
    "dual": "set-mode:dual",
    "usage": "usage",
    "cutover": "cutover",
    "verify": "verify",
}
"""Footer actions (one key each) -> catalogue action; the rest is in the palette."""
FOOTER_WAIT_TICKS = 100
"""The loader waits at most this many 20 ms ticks for the footer's keys to be drawn ..."""
FIRST_FRAME_WAIT = 3.0
"""... and at most this many seconds for the first frame at all."""


class MainScreen(Screen):
    """The app's first screen: focus starts on the steps table (not on the tabs and then
    the table: each focus change makes the footer rebuild its keys)."""

    AUTO_FOCUS = "#steps"


class WorkbenchApp(ActionFlow, App[None]):
    """``source`` gives snapshots (and runs actions in workspace mode)."""

    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("q", "quit_here", "Quit", show=False),  # ctrl+c too: see action_help_quit
        Binding("1", "show_tab('plan')", "Plan", show=False),
        Binding("2", "show_tab('evidence')", "Evidence", show=False),
        Binding("3", "show_tab('audit')", "Audit", show=False),
        Binding("4", "show_tab('findings')", "Findings", show=False),
        Binding("i", "issue", "Issue"),
        Binding("d", "dual", "Dual"),
        Binding("u", "usage", "Usage"),
        Binding("c", "cutover", "Cut over"),
        Binding("v", "verify", "Verify"),
        Binding("ctrl+r", "refresh", "Reload"),
    ]

    def __init__(self, source, *, snapshot: Snapshot | None = None) -> None:
        super().__init__()
        self.source = source
        self.snapshot: Snapshot | None = snapshot
        self.loading: str | None = None
        """What the loader is doing (None when loaded)."""
        self.load_error: WorkbenchError | None = None
        """Why the first load failed (``workbench tui`` prints it and exits 2)."""
        self._first_frame_out = threading.Event()
        self.stopped_by: int | None = None
        """The signal that ended the app, if one did (``workbench tui`` exits 128 + it)."""
        self.init_flow()

    # --- layout ---------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with TabbedContent(initial="plan", id="tabs"):
            with TabPane(tab_label("plan"), id="plan"), Vertical(id="plan-view"):
                yield StepsTable(id="steps")
                yield StepDetailPanel(id="detail")
            with TabPane(tab_label("evidence"), id="evidence"):
                yield EvidenceView(id="evidence-view")
            with TabPane(tab_label("audit"), id="audit"):
                yield AuditView(id="audit-view")
            with TabPane(tab_label("findings"), id="findings"):
                yield FindingsTable(id="findings-table")
        yield ActionStatus(id="status")
        yield KeysFooter()

    def on_mount(self) -> None:
        if not self.is_headless:  # a real terminal (tests drive it headless, in their loop)
            self._stop_on_signals()
        self.query_one(StepsTable).focus()
        if self.snapshot is not None:
            self._apply(self.snapshot)
        else:
            self.reload(first=True)  # its worker waits for the first frame (see _load)
            self.call_after_refresh(self._watch_first_frame)

    def _watch_first_frame(self, waited: int = 0) -> None:
        """Let the loader go once the first frame, footer keys included, is out.

        The loader's imports (networkx, cryptography, the migration package) hold the GIL
        for most of a second; run at mount they delayed the first frame (and the footer's
        keys, which Textual composes one refresh later) by as much."""
        keys = self.query_one(KeysFooter).children
        drawn = bool(keys) and bool(keys[0].region)  # laid out: in a frame sent to the terminal
        if not drawn and waited < FOOTER_WAIT_TICKS:
            self.set_timer(0.02, lambda: self._watch_first_frame(waited + 1))
            return
        self._first_frame_out.set()

    # --- loading --------------------------------------------------------------------------

    def reload(self, *, first: bool = False) -> None:
        """Load the plan (or workspace) in a worker; the screen stays live meanwhile."""
        # At start the footer has not drawn its keys yet: its first build reads the state.
        self._set_loading("starting", refresh_keys=not first)
        self.query_one(ActionStatus).start("loading plan..." if first else "loading...")
        self.query_one(StepsTable).border_title = "waves and steps (loading...)"
        self._load(first)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, first: bool) -> None:
        if first:  # the worker exists from mount (so waiting for workers waits for it) ...
            self._first_frame_out.wait(FIRST_FRAME_WAIT)  # ... but imports nothing before
        status = self.query_one(ActionStatus)

        def stage(text: str) -> None:
            self.call_from_thread(self._stage, text)

        try:
            snapshot = self.source.load(stage)
        except Exception as exc:
            known = user_error(exc)
            if known is None:
                raise
            self.call_from_thread(self._load_failed, known, first)
            return
        self.call_from_thread(self._apply, snapshot)
        # The table is up; the rest follows without holding it back.
        self.call_from_thread(status.start, "finding risky facts and blast radii...")
        findings = self.source.findings(snapshot)
        snapshot.details.warm()
        self.call_from_thread(self._loaded, findings)

    def _stage(self, text: str) -> None:
        self.loading = text
        self.query_one(ActionStatus).start(f"loading: {text}...")

    def _set_loading(self, stage: str | None, *, refresh_keys: bool = True) -> None:
        """The action keys are greyed while loading: the footer must be told when that
        starts or ends (it drew them greyed after the load until the next focus change).
        The planning view hides them, so its footer is left alone."""
        self.loading = stage
        if refresh_keys and not self.source.read_only:
            self.refresh_bindings()

    def _load_failed(self, exc: WorkbenchError, first: bool) -> None:
        self._set_loading(None)
        self.query_one(ActionStatus).stop()
        if first:
            self.load_error = exc
            self.exit(return_code=exc.exit_status)
        else:
            self.notify(one_line(exc), title="reload failed", severity="error")

    def _loaded(self, findings: tuple) -> None:
        self._set_loading(None)
        self.query_one(FindingsTable).show(findings)
        if not self.busy:
            self.query_one(ActionStatus).stop()
        self._show_selected()

    # --- data -----------------------------------------------------------------------------

    @property
    def selected_step(self) -> str | None:
        return self.query_one(StepsTable).selected_key

    @property
    def selected_wave(self) -> int | None:
        return self.query_one(StepsTable).selected_wave

    def _apply(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.sub_title = snapshot.title
        table = self.query_one(StepsTable)
        table.show(snapshot.rows)
        table.border_title = f"waves and steps ({len(snapshot.rows):,})"
        self.query_one(AuditView).show(snapshot.audit, snapshot.crls)
        if snapshot.findings:
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

    # --- views ----------------------------------------------------------------------------

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
        if self.loading:
            self.notify("still loading", severity="warning")
            return
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in KEY_ACTIONS:
            if self.source.read_only:
                return False  # hidden: the planning view cannot act
            return None if (self.busy or self.loading or self.asking) else True  # greyed
        return True

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) for the command palette: every action in the CLI's words."""
        out: list[tuple[str, str, Callable[[], object]]] = []
        if not self.source.read_only:
            step, wave = self.selected_step, self.selected_wave
            for spec in ACTIONS.values():
                title = palette_title(spec, step, wave)
                out.append((title, spec.help, _call(self.request, spec.name)))
        for tab, title in TABS.items():
            out.append(
                (f"Show {title.lower()}", f"switch to the {title.lower()} view", _tab(self, tab))
            )
        out.append(("Reload", "read the plan / workspace again", self.action_refresh))
        return out

    # --- quitting -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; while an action runs, once it has finished (a worker thread cannot be
        stopped halfway, and its result is recorded before the app goes). Asked again, at
        once: the terminal is given back and the process ends when the action does."""
        if self.busy and not self.quit_pending:
            self.quit_pending = True
            self.notify(
                f"{self.busy} is still running: quitting once it has finished and its result "
                "is recorded (ctrl+q again: give the terminal back now)",
                title="quitting",
                timeout=30,
            )
            return
        self.exit()

    async def action_quit_here(self) -> None:
        """q quits from the app's own screen; in a dialog it is only a letter (a dialog's
        buttons have the focus there, and a stray q must not end the app behind them)."""
        if isinstance(self.screen, MainScreen):
            await self.action_quit()

    async def action_help_quit(self) -> None:
        """ctrl+c (when no text is selected to copy) quits, as in any terminal program."""
        await self.action_quit()

    def _stop_on_signals(self) -> None:
        """SIGTERM, SIGHUP and SIGINT end the app the way ctrl+q does, so the terminal is
        given back (alternate screen left, mouse reporting off, cursor shown); Python's
        default handlers ended the process with the terminal still in the app's modes."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._stopped_by, signum)

    def _stopped_by(self, signum: int) -> None:
        self.stopped_by = signum
        self.exit(return_code=128 + signum)

    # --- key actions ----------------------------------------------------------------------

    def action_issue(self) -> None:
        self.request("issue")

    def action_dual(self) -> None:
        self.request("set-mode:dual")

    def action_usage(self) -> None:
        self.request("usage")

    def action_cutover(self) -> None:
        self.request("cutover")

    def action_verify(self) -> None:
        self.request("verify")


def tab_label(tab: str) -> str:
    """A tab's header with its key in the footer's key style: "1 Plan"."""
    return f"[b $footer-key-foreground]{TAB_KEYS[tab]}[/] {TABS[tab]}"


def _tab(app: WorkbenchApp, tab: str) -> Callable[[], None]:
    return lambda: app.action_show_tab(tab)


def _call(fn: Callable[[str], None], name: str) -> Callable[[], None]:
    return lambda: fn(name)
