"""Pictures of the cut-over review: probe matrix heat map, timings, old-key use per caller."""

from __future__ import annotations

from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from workbench.report.review import CutoverReview, StepReview
from workbench.states import Verdict

__all__ = ["probe_heatmap", "timing_chart", "usage_chart"]

OUTCOMES = ("not run", "pass", "inconclusive", "fail")
MAX_COLUMNS = 40  # a wider heat map stops being readable
MAX_ROWS = 60  # runs or callers in one chart
OUTCOME_COLOURS = ("#eeeeee", "#2ca02c", "#ff9f1c", "#d62728")
VERDICT_COLOURS = {
    Verdict.PASS: "#2ca02c",
    Verdict.FAIL: "#d62728",
    Verdict.INCONCLUSIVE: "#ff9f1c",
    Verdict.ERROR: "#7f7f7f",
}


def _empty(title: str, sentence: str) -> Figure:
    fig = Figure(figsize=(8, 2))
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, sentence, ha="center", va="center", fontsize=11, color="#555555")
    return fig


def probe_heatmap(steps: tuple[StepReview, ...] | list[StepReview], title: str) -> Figure:
    """Probes (rows) x entry points of each step's latest run (columns), coloured by outcome."""
    columns: list[tuple[str, str]] = []
    cells: dict[tuple[str, tuple[str, str]], str] = {}
    probes: list[str] = []
    for s in steps:
        run = s.latest
        if run is None:
            continue
        for c in run.cells:
            col = (s.key, c.entry_point)
            if col not in columns:
                columns.append(col)
            if c.probe not in probes:
                probes.append(c.probe)
            # a probe repeated on fresh connections: the worst outcome shows
            prev = cells.get((c.probe, col))
            if prev is None or OUTCOMES.index(c.outcome if c.outcome in OUTCOMES else "fail") > (
                OUTCOMES.index(prev)
            ):
                cells[(c.probe, col)] = c.outcome if c.outcome in OUTCOMES else "fail"
    if not columns:
        return _empty(title, "no verification recorded yet")
    if len(columns) > MAX_COLUMNS:
        title += f" (the first {MAX_COLUMNS} of {len(columns)} entry points)"
        columns = columns[:MAX_COLUMNS]
    grid = [[OUTCOMES.index(cells.get((p, col), "not run")) for col in columns] for p in probes]
    fig = Figure(
        figsize=(max(6.0, 0.55 * len(columns) + 3.5), 0.38 * len(probes) + 2.6),
        layout="constrained",
    )
    ax = fig.subplots()
    ax.imshow(grid, cmap=ListedColormap(OUTCOME_COLOURS), vmin=0, vmax=len(OUTCOMES) - 1,
              aspect="auto")  # fmt: skip
    ax.set_yticks(range(len(probes)), probes, fontsize=8)
    labels = [f"{key}\n{_short(ep)}" for key, ep in columns]
    ax.set_xticks(range(len(columns)), labels, fontsize=7, rotation=60, ha="right")
    ax.set_xticks([x - 0.5 for x in range(1, len(columns))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(probes))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.legend(
        handles=[Patch(color=c, label=o) for o, c in zip(OUTCOMES, OUTCOME_COLOURS, strict=True)],
        loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False,
    )  # fmt: skip
    ax.set_title(title)
    return fig


def _short(entry_point: str, limit: int = 38) -> str:
    text = entry_point.split("://", 1)[-1]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def timing_chart(review: CutoverReview) -> Figure:
    """Seconds each verification took, per step, coloured by verdict."""
    runs = review.runs
    title = "Verification runs: duration and verdict"
    if not runs:
        return _empty(title, "no verification recorded yet")
    if len(runs) > MAX_ROWS:
        title += f" (the latest {MAX_ROWS} of {len(runs)})"
        runs = sorted(runs, key=lambda sr: sr[1].started_at)[-MAX_ROWS:]
    fig = Figure(figsize=(8, 0.3 * len(runs) + 1.6), layout="constrained")
    ax = fig.subplots()
    labels = [f"w{s.wave} {s.key} #{r.id}" for s, r in runs]
    ax.barh(labels, [r.seconds * 1000 for _, r in runs],
            color=[VERDICT_COLOURS.get(r.verdict, "#7f7f7f") for _, r in runs])  # fmt: skip
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("milliseconds")
    ax.legend(handles=[Patch(color=c, label=v) for v, c in VERDICT_COLOURS.items()], fontsize=8)
    ax.set_title(title)
    return fig


def usage_chart(review: CutoverReview) -> Figure:
    """Each caller's last use of a step's old key, with the step's cut-over time marked."""
    rows = [(s, c) for s in review.steps for c in s.callers]
    title = "Old-key use per caller (last seen); diamond: the step's cut-over"
    if not rows:
        return _empty(title, "no caller presented an old key (or no access log could be read)")
    if len(rows) > MAX_ROWS:
        title += f"\n(the {MAX_ROWS} most recent of {len(rows)})"
        rows = sorted(rows, key=lambda sc: sc[1].last_seen)[-MAX_ROWS:]
    fig = Figure(figsize=(9, 0.32 * len(rows) + 1.8), layout="constrained")
    ax = fig.subplots()
    labels = [f"{s.key}: {c.caller}" for s, c in rows]
    ax.scatter([c.last_seen for _, c in rows], range(len(rows)),
               s=[20 + 4 * min(c.requests, 50) for _, c in rows], color="#d62728",
               label="last seen (size: requests)")  # fmt: skip
    cut = [(y, s.cut_over_at) for y, (s, _) in enumerate(rows) if s.cut_over_at]
    if cut:
        ax.scatter([t for _, t in cut], [y for y, _ in cut], marker="D", color="#1f77b4",
                   label="cut-over")  # fmt: skip
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title)
    return fig
