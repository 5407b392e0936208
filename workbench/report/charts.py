"""Pictures of the program report (matplotlib ``Figure`` objects, no pyplot state).

The same figures appear in the program notebook and in `workbench report`'s SVG files.
Each chart draws something readable for any report, including an empty one (a sentence
instead of bars), so no inventory can make a picture fail.
"""

from __future__ import annotations

from matplotlib import rc_context
from matplotlib.figure import Figure

from workbench.report.program import MODE_ORDER, ProgramReport
from workbench.states import GatewayMode

__all__ = ["MODE_COLOURS", "program_charts", "save_svg"]

MODE_COLOURS = {
    GatewayMode.KEY: "#d62728",
    GatewayMode.DUAL: "#ff9f1c",
    GatewayMode.MTLS: "#2ca02c",
    GatewayMode.MTLS_TOKEN: "#1f77b4",
}
RETIRED, REMAINING = "#2ca02c", "#bbbbbb"
MAX_KEY_BARS = 40  # beyond this a per-key bar chart becomes a histogram


def _empty(fig: Figure, title: str, sentence: str) -> Figure:
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, sentence, ha="center", va="center", fontsize=11, color="#555555")
    return fig


def sender_constrained_chart(report: ProgramReport) -> Figure:
    fig = Figure(figsize=(8, 2.8), layout="constrained")
    title = "Sender-constrained: APIs and keys by mode"
    if not report.apis_total and not report.keys_total:
        return _empty(fig, title, "no APIs or keys in the inventory")
    ax = fig.subplots()
    rows = [("keys", report.mode_counts("keys")), ("APIs", report.mode_counts("apis"))]
    for y, (_label, counts) in enumerate(rows):
        total = sum(counts.values()) or 1
        left = 0.0
        for mode in MODE_ORDER:
            share = counts.get(mode, 0) / total
            if share:
                ax.barh(y, share, left=left, color=MODE_COLOURS[mode], edgecolor="white")
                if share >= 0.06:
                    ax.text(left + share / 2, y, str(counts[mode]), ha="center", va="center",
                            color="white", fontsize=9, fontweight="bold")  # fmt: skip
            left += share
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
    handles = [ax.bar(0, 0, color=MODE_COLOURS[m], label=m) for m in MODE_ORDER]
    ax.legend(handles=handles, labels=list(MODE_ORDER), ncols=4, loc="upper center",
              bbox_to_anchor=(0.5, -0.18), frameon=False)  # fmt: skip
    ax.set_title(title)
    return fig


def data_class_chart(report: ProgramReport) -> Figure:
    rows = report.by_data_class
    fig = Figure(figsize=(8, max(2.2, 0.45 * len(rows) + 1.2)), layout="constrained")
    title = "Keys retired and remaining, by data class"
    if not rows:
        return _empty(fig, title, "no keys yet")
    ax = fig.subplots()
    names = [r.data_class for r in rows]
    done = [r.retired for r in rows]
    left = [r.remaining for r in rows]
    ax.barh(names, done, color=RETIRED, label="retired")
    ax.barh(names, left, left=done, color=REMAINING, label="remaining (static key accepted)")
    ax.invert_yaxis()
    ax.set_xlabel("keys (a key counts in every data class of its API)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    return fig


def _unit(longest_days: float) -> tuple[str, float]:
    """A unit that keeps the longest bar between ~1 and ~1000 (a rehearsal takes seconds)."""
    for name, per_day in (("days", 1.0), ("hours", 24.0), ("minutes", 1440.0)):
        if longest_days * per_day >= 1:
            return name, per_day
    return "seconds", 86400.0


def retirement_chart(report: ProgramReport) -> Figure:
    now = report.generated_at
    rows = sorted(
        report.retirements,
        key=lambda r: (r.retired_at is None, r.days if r.days is not None else 0.0, r.key),
    )
    title = "From discovery to retirement"
    if not rows:
        return _empty(Figure(figsize=(8, 2.2)), title, "no keys yet")
    if len(rows) > MAX_KEY_BARS:
        fig = Figure(figsize=(8, 3.5), layout="constrained")
        ax = fig.subplots()
        done = [r.days for r in rows if r.days is not None]
        waiting = [(now - r.discovered_at).total_seconds() / 86400 for r in rows if r.days is None]
        ax.hist([done, waiting], bins=20, stacked=True, color=[RETIRED, REMAINING],
                label=["retired: days to retire", "remaining: days so far"])  # fmt: skip
        ax.set_xlabel("days")
        ax.set_ylabel("keys")
        ax.legend(fontsize=8)
        ax.set_title(title)
        return fig
    fig = Figure(figsize=(8, 0.28 * len(rows) + 1.4), layout="constrained")
    ax = fig.subplots()
    spans = [
        r.days if r.days is not None else (now - r.discovered_at).total_seconds() / 86400
        for r in rows
    ]
    unit, per_day = _unit(max(spans))
    for y, (r, span) in enumerate(zip(rows, spans, strict=True)):
        if r.days is not None:
            ax.barh(y, span * per_day, color=RETIRED)
            ax.text(span * per_day, y, f" {span * per_day:.3g} {unit}", va="center", fontsize=7)
        else:
            ax.barh(y, span * per_day, color=REMAINING, hatch="//", edgecolor="white")
    ax.set_yticks(range(len(rows)), [r.key for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{unit} since discovery (green: retired; grey: still accepted)")
    ax.set_title(title)
    return fig


def expiry_chart(report: ProgramReport) -> Figure:
    title = f"Client certificates expiring within {report.expiry_window_days:g} days"
    if not report.expiring:
        return _empty(Figure(figsize=(8, 2.2)), title, "none")
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    per_day: dict[str, int] = {}
    for c in report.expiring:
        day = c.not_after.date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
    days = sorted(per_day)
    ax.bar(days, [per_day[d] for d in days], color="#9467bd")
    ax.set_ylabel("certificates")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.set_title(title)
    return fig


def drill_chart(report: ProgramReport) -> Figure:
    title = "Revocation drills: time from revocation to refusal"
    d = report.drills
    if not d.any or not d.gateways:
        return _empty(Figure(figsize=(8, 2.2)), title, "no drill yet")
    fig = Figure(figsize=(8, 0.5 * len(d.gateways) + 1.5), layout="constrained")
    ax = fig.subplots()
    names = [g.gateway for g in d.gateways]
    ax.barh(names, [g.worst_s or 0 for g in d.gateways], color="#ffbb78", label="worst")
    ax.barh(names, [g.median_s or 0 for g in d.gateways], color="#1f77b4", height=0.4,
            label="median")  # fmt: skip
    for y, g in enumerate(d.gateways):
        if g.never_refused:
            ax.text(0, y, f"  {g.never_refused} never refused", va="center", color="#d62728")
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


def program_charts(report: ProgramReport) -> dict[str, Figure]:
    """Name -> figure, in reading order (names become file names)."""
    return {
        "sender-constrained": sender_constrained_chart(report),
        "data-classes": data_class_chart(report),
        "discovery-to-retirement": retirement_chart(report),
        "certificates-expiring": expiry_chart(report),
        "revocation-drills": drill_chart(report),
    }


def save_svg(fig: Figure, path) -> None:  # noqa: ANN001 - str or Path
    """Write ``fig`` as SVG without a timestamp (the same report gives the same bytes)."""
    # text stays text (searchable, smaller); a fixed salt keeps clip-path ids stable
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "workbench"}):
        fig.savefig(path, format="svg", metadata={"Date": None})
