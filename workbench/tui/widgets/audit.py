"""Region 4: the audit log and its hash-chain check, and the CRL each gateway serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from workbench.tui.snapshot import AuditSummary

COLUMNS = ("seq", "time", "actor", "action", "subject", "details")


def crl_lines(crls: Sequence[Any]) -> Text:
    """One line per gateway: the CRL it serves (number, thisUpdate, nextUpdate) and its state,
    the warning in full when it is not ok (as `workbench status` prints it)."""
    if not crls:
        return Text("CRLs: no gateway has run for this workspace yet")
    text = Text()
    for i, c in enumerate(crls):
        if i:
            text.append("\n")
        when = (
            f"#{c.number}, this update {c.this_update:%Y-%m-%d %H:%M}Z, "
            f"next update {c.next_update:%Y-%m-%d %H:%M}Z"
            if c.number is not None and c.this_update and c.next_update
            else "no CRL read"
        )
        style = "green" if c.state == "ok" else ("yellow" if c.state == "manual" else "bold red")
        text.append(f"CRL {c.gateway} ({c.server}): {when}: ")
        text.append(c.state, style=style)
        if c.warning:
            text.append(f" - {c.warning}")
    return text


class AuditView(Vertical):
    """The chain check result above the latest records (newest first)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summary: AuditSummary | None = None

    def compose(self):
        yield Static("", id="audit-check")
        yield Static("", id="crl-health")
        yield DataTable(id="audit-records", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#audit-records", DataTable).add_columns(*COLUMNS)

    def show(self, summary: AuditSummary | None, crls: Sequence[Any] = ()) -> None:
        self.summary = summary
        self.query_one("#crl-health", Static).update(crl_lines(crls))
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
