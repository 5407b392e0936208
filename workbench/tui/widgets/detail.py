"""Region 2: the selected step: score reasons, consumers, blast radius, certificates.

Wide terminals get three columns; below :data:`WIDE` the parts stack, so nothing is
squeezed until words break. Text wraps at word boundaries; ids are cut with an ellipsis.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.tui.snapshot import StepDetail

WIDE = 110
"""Below this many columns the detail parts stack instead of sitting side by side."""
LIST_MAX = 20
"""Blast-radius services listed by name (the count is always exact)."""


def _table(title: str, *headers: str, ratios: tuple[int, ...] = ()) -> Table:
    """A borderless table; the last column wraps at words, ids before it end in an ellipsis."""
    t = Table(title=title, title_justify="left", expand=True, box=None, padding=(0, 1))
    for i, h in enumerate(headers):
        ratio = ratios[i] if i < len(ratios) else None
        if i == len(headers) - 1:
            t.add_column(h, overflow="ellipsis", ratio=ratio)
        else:
            t.add_column(h, no_wrap=True, overflow="ellipsis", ratio=ratio)
    return t


def _names(names: tuple[str, ...]) -> str:
    shown = "\n".join(names[:LIST_MAX]) or "none"
    return shown + (f"\n... and {len(names) - LIST_MAX} more" if len(names) > LIST_MAX else "")


def expiry(not_after: datetime, now: datetime) -> str:
    """``2026-11-29 (in 6d)``: the date and how far it is from ``now``."""
    days = (not_after - now).total_seconds() / 86400
    rel = f"in {int(days)}d" if days >= 0 else f"expired {int(-days)}d ago"
    return f"{not_after:%Y-%m-%d} ({rel})"


class DetailView:
    """A step's detail laid out for the width it is drawn at."""

    def __init__(self, d: StepDetail, now: datetime, *, read_only: bool) -> None:
        self.d, self.now, self.read_only = d, now, read_only

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield render_detail(
            self.d, self.now, read_only=self.read_only, wide=options.max_width >= WIDE
        )


def render_detail(d: StepDetail, now: datetime, *, read_only: bool, wide: bool = True) -> Group:
    """What / who / what breaks on top; why (score) and certificates underneath."""
    head = Text.assemble(
        (d.key, "bold"),
        f"  wave {d.wave}  score {d.score:.2f}  {d.state}\n",
        f"{d.api} ({d.environment}, {d.owner})\n",
        f"flags: {', '.join(d.flags) or '-'}\n",
        f"old key fingerprint: {d.fingerprint or '-'}",
    )
    reasons = _table("score reasons", "factor", "points", "detail", ratios=(3, 2, 6))
    for r in d.reasons:
        reasons.add_row(r.factor, f"{r.contribution:.2f}", r.detail)

    consumers = _table(
        f"consumers ({len(d.consumers)})", "service", "owner", "exposure", ratios=(4, 3, 3)
    )
    for c in d.consumers:
        exposure = c.exposure + (" (3rd party)" if c.third_party else "")
        consumers.add_row(c.service, c.owner, exposure)

    blast = Text(f"blast radius: {len(d.blast_services)} service(s)\n", style="bold")
    blast.append(_names(d.blast_services), style="")
    if d.blast_apis:
        apis = ", ".join(d.blast_apis[:LIST_MAX])
        more = f" and {len(d.blast_apis) - LIST_MAX} more" if len(d.blast_apis) > LIST_MAX else ""
        blast.append(f"\nAPIs going down with them:\n{apis}{more}", style="")

    if read_only:
        certs: Table | Text = Text("certificates: open a workspace to issue them", style="dim")
    elif not d.certificates:
        certs = Text("certificates: none issued yet", style="dim")
    else:
        certs = _table("certificates", "service", "serial", "expires", ratios=(3, 3, 4))
        for c in d.certificates:
            certs.add_row(c.service, c.serial, expiry(c.not_after, now))

    if not wide:
        return Group(head, Text(), consumers, Text(), blast, Text(), reasons, Text(), certs)
    top = Table.grid(expand=True, padding=(0, 2))
    for ratio in (4, 5, 3):
        top.add_column(ratio=ratio)
    top.add_row(head, consumers, blast)
    bottom = Table.grid(expand=True, padding=(0, 2))
    for ratio in (1, 1):
        bottom.add_column(ratio=ratio)
    bottom.add_row(reasons, certs)
    return Group(top, Text(), bottom)


class StepDetailPanel(VerticalScroll):
    """Shows one :class:`StepDetail`; ``detail`` is what is shown (None: nothing selected)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "step"
        self.detail: StepDetail | None = None

    def compose(self):
        yield Static("select a step", id="detail-body")

    def show(self, detail: StepDetail | None, now: datetime, *, read_only: bool) -> None:
        self.detail = detail
        body = self.query_one("#detail-body", Static)
        if detail is None:
            body.update("select a step")
            self.border_title = "step"
            return
        self.border_title = f"step {detail.key}"
        body.update(DetailView(detail, now, read_only=read_only))
