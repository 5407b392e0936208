"""Region 2: the selected step: score reasons, consumers, blast radius, certificates."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.tui.snapshot import StepDetail


def _table(title: str, *headers: str, ratios: tuple[int, ...] = ()) -> Table:
    """A borderless table; the last column wraps, ids before it are cut with an ellipsis."""
    t = Table(title=title, title_justify="left", expand=True, box=None, padding=(0, 1))
    for i, h in enumerate(headers):
        ratio = ratios[i] if i < len(ratios) else None
        if i == len(headers) - 1:
            t.add_column(h, overflow="fold", ratio=ratio)
        else:
            t.add_column(h, no_wrap=True, overflow="ellipsis", ratio=ratio)
    return t


def expiry(not_after: datetime, now: datetime) -> str:
    """``2026-11-29 (in 6d)``: the date and how far it is from ``now``."""
    days = (not_after - now).total_seconds() / 86400
    rel = f"in {int(days)}d" if days >= 0 else f"expired {int(-days)}d ago"
    return f"{not_after:%Y-%m-%d} ({rel})"


def render_detail(d: StepDetail, now: datetime, *, read_only: bool) -> Group:
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
    blast.append("\n".join(d.blast_services) or "none", style="")
    if d.blast_apis:
        blast.append(f"\nAPIs going down with them:\n{', '.join(d.blast_apis)}", style="")

    if read_only:
        certs: Table | Text = Text("certificates: open a workspace to issue them", style="dim")
    elif not d.certificates:
        certs = Text("certificates: none issued yet", style="dim")
    else:
        certs = _table("certificates", "service", "serial", "expires", ratios=(3, 3, 4))
        for c in d.certificates:
            certs.add_row(c.service, c.serial, expiry(c.not_after, now))

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
        body.update(render_detail(detail, now, read_only=read_only))
