"""Region 4: the audit log and its hash-chain check."""

from __future__ import annotations

from textual.containers import Vertical
from textual.widgets import DataTable, Static

from workbench.tui.snapshot import AuditSummary

COLUMNS = ("seq", "time", "actor", "action", "subject", "details")


class AuditView(Vertical):
    """The chain check result above the latest records (newest first)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary: AuditSummary | None = None

    def compose(self):
        yield Static("", id="audit-check")
        yield DataTable(id="audit-records", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#audit-records", DataTable).add_columns(*COLUMNS)

    def show(self, summary: AuditSummary | None) -> None:
        self.summary = summary
        check = self.query_one("#audit-check", Static)
        table = self.query_one("#audit-records", DataTable)
        table.clear()
        check.remove_class("chain-ok", "chain-broken")
        if summary is None:
            check.update("no audit log in the planning view: open a workspace")
            return
        check.add_class("chain-ok" if summary.ok else "chain-broken")
        word = "chain OK" if summary.ok else "CHAIN BROKEN"
        check.update(f"{word}: {summary.reason}")
        for r in reversed(summary.records):
            details = r.details_json if len(r.details_json) <= 80 else r.details_json[:77] + "..."
            table.add_row(str(r.seq), r.time[:19], r.actor, r.action, r.subject, details)
