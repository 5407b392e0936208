"""Region 1: the waves and steps table, sized for the terminal it is in.

Step, state and latest verdict always show; wave, score, consumers and API follow while
they fit, and the step id is cut with an ellipsis before anything wraps. Column widths are
computed here from the data, once, so the table never measures its cells (DataTable's own
measuring took 2.5 s for 28k steps, longer than planning them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from workbench.tui.snapshot import StepRow

__all__ = ["COLUMNS", "StepsTable", "choose_columns"]

COLUMNS = ("wave", "step", "API", "consumers", "score", "state", "verdict")
REQUIRED = ("step", "state", "verdict")
OPTIONAL = ("wave", "score", "consumers", "API")
"""Added in this order while they fit: the first to go when space is short is the API."""
CAP = {"step": 32, "API": 28}
MIN_STEP = 8
PADDING = 2
"""DataTable pads each cell by one column on each side."""


def _consumers(names: Sequence[str]) -> str:
    return str(len(names)) if names else "0 (orphan)"


def _cells(r: StepRow) -> dict[str, str]:
    return {
        "wave": str(r.wave),
        "step": r.key,
        "API": r.api,
        "consumers": _consumers(r.consumers),
        "score": f"{r.score:.1f}",
        "state": r.state,
        "verdict": r.verdict or "-",
    }


@dataclass(frozen=True)
class Layout:
    """Which columns show, and how wide each is."""

    columns: tuple[str, ...]
    widths: tuple[int, ...]


def natural_widths(rows: Sequence[StepRow]) -> dict[str, int]:
    """The widest cell (or header) of each column, capped for the id columns."""
    widths = {c: len(c) for c in COLUMNS}
    if rows:
        widths["wave"] = max(widths["wave"], len(str(max(r.wave for r in rows))))
        widths["step"] = max(widths["step"], max(len(r.key) for r in rows))
        widths["API"] = max(widths["API"], max(len(r.api) for r in rows))
        widths["consumers"] = max(
            widths["consumers"], max(len(_consumers(r.consumers)) for r in rows)
        )
        widths["score"] = max(widths["score"], max(len(f"{r.score:.1f}") for r in rows))
        widths["state"] = max(widths["state"], max(len(r.state) for r in rows))
        widths["verdict"] = max(widths["verdict"], max(len(r.verdict or "-") for r in rows))
    for name, cap in CAP.items():
        widths[name] = min(widths[name], cap)
    return widths


def choose_columns(natural: dict[str, int], available: int) -> Layout:
    """Required columns first (the step id shrinks to fit), then optional ones while they fit."""
    chosen = list(REQUIRED)
    used = sum(natural[c] + PADDING for c in chosen)
    step = natural["step"]
    if used > available:
        step = max(MIN_STEP, natural["step"] - (used - available))
        used -= natural["step"] - step
    for name in OPTIONAL:
        need = natural[name] + PADDING
        if used + need <= available:
            chosen.append(name)
            used += need
    ordered = tuple(c for c in COLUMNS if c in chosen)
    widths = tuple(step if c == "step" else natural[c] for c in ordered)
    return Layout(ordered, widths)


def _fit(text: str, width: int) -> str | Text:
    if len(text) > width:
        text = text[: max(1, width - 1)] + "…"
    # Plain strings are read as markup by DataTable; ids with brackets must not be.
    return Text(text) if "[" in text else text


class StepsTable(DataTable):
    """Every step in plan order; the cursor row is the selected step."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.border_title = "waves and steps"
        self.rows_shown: tuple[StepRow, ...] = ()
        self.layout_shown: Layout | None = None
        self._by_key: dict[str, StepRow] = {}
        self._natural: dict[str, int] = natural_widths(())

    def _available(self) -> int:
        width = self.content_size.width or self.size.width or 80
        return max(20, width - 1)  # one column for the scrollbar's edge

    def show(self, rows: Sequence[StepRow]) -> None:
        """Replace the rows, keeping the selected step when it is still there."""
        self.rows_shown = tuple(rows)
        self._by_key = {r.key: r for r in self.rows_shown}
        self._natural = natural_widths(self.rows_shown)
        self._rebuild(choose_columns(self._natural, self._available()))

    def on_resize(self) -> None:
        layout = choose_columns(self._natural, self._available())
        if layout != self.layout_shown:
            self._rebuild(layout)

    def _rebuild(self, layout: Layout) -> None:
        selected = self.selected_key
        self.clear(columns=True)
        self.layout_shown = layout
        for name, width in zip(layout.columns, layout.widths, strict=True):
            self.add_column(name, width=width, key=name)
        pairs = tuple(zip(layout.columns, layout.widths, strict=True))
        for r in self.rows_shown:
            cells = _cells(r)
            self.add_row(*(_fit(cells[c], w) for c, w in pairs), key=r.key)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[override]
        # Every column has a fixed width and every row is one line (see _rebuild), so only the
        # virtual size changes; DataTable measures every new cell here (2.5 s for 28k rows).
        header = self.header_height if self.show_header else 0
        width = sum(c.get_render_width(self) for c in self.columns.values())
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )

    def cells_of(self, key: str) -> dict[str, str]:
        """The full (uncut) cells of a step's row."""
        return _cells(self._by_key[key])

    @property
    def selected_key(self) -> str | None:
        """The step under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # cursor outside the rows while the table is rebuilt
            return None

    @property
    def selected_wave(self) -> int | None:
        key = self.selected_key
        if key is None:
            return None
        row = self._by_key.get(key)
        return row.wave if row else None
