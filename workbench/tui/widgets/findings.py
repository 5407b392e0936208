"""Region 5: the inventory's findings (risky but legal facts)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from workbench.inventory.model import Finding

COLUMNS = ("severity", "code", "subject", "message", "where")


class FindingsTable(DataTable):
    """Every finding, in inventory order."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, findings: Sequence[Finding]) -> None:
        self.clear()
        for f in findings:
            where = f"line {f.location.line}" if f.location else "-"
            self.add_row(f.severity.value, f.code, f.subject, f.message, where)
