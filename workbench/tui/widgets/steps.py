"""Region 1: the waves and steps table."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from workbench.tui.snapshot import StepRow

COLUMNS = ("wave", "step", "API", "consumers", "score", "state", "verdict")


def _consumers(names: Sequence[str]) -> str:
    return str(len(names)) if names else "0 (orphan)"


class StepsTable(DataTable):
    """Every step in plan order; the cursor row is the selected step."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.border_title = "waves and steps"

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, rows: Sequence[StepRow]) -> None:
        """Replace the rows, keeping the selected step when it is still there."""
        selected = self.selected_key
        self.clear()
        for r in rows:
            self.add_row(
                str(r.wave),
                r.key,
                r.api,
                _consumers(r.consumers),
                f"{r.score:.1f}",
                r.state,
                r.verdict or "-",
                key=r.key,
            )
        if selected is not None and selected in {r.key for r in rows}:
            self.move_cursor(row=self.get_row_index(selected))

    @property
    def selected_key(self) -> str | None:
        """The step under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # cursor outside the rows while the table is rebuilt
            return None
