"""A readable picture of the dependency graph: three columns, no label on another label.

Services (left) hold keys (middle) that open APIs (right). Every node gets its own row in
its column and rows are taller than a label, so labels cannot overlap; service labels sit
left of their dots, key and API labels right of theirs, and the columns are spaced by the
widest label. Rows are ordered by the barycentre heuristic (each node moves towards the
mean row of its neighbours, a few sweeps) so most edges run flat instead of crossing.
Keys are coloured by wave; ``layout="wave"`` also groups them by wave in shaded bands.
An API served by a service of the inventory names it in its label (``api => service``)
instead of drawing an edge back across the picture.

Built on a bare ``matplotlib.figure.Figure`` (no pyplot state); coordinates are inches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from workbench.errors import InputError

__all__ = ["LAYOUTS", "draw_graph", "save_picture"]

LAYOUTS = ("kind", "wave")
PICTURE_FORMATS = ("svg", "png")
FONT_PT = 8
ROW_IN = 0.24  # a row is taller than an 8 pt label (~0.11 in) with room to spare
CHAR_IN = 0.068  # generous average width of one 8 pt character
GAP_IN = 1.1  # room for the edges between a column's labels and the next column
MARGIN_IN = 0.3
HEADER_IN = 0.9
LEGEND_IN = 0.9
KIND_COLOURS = {"service": "#4c78a8", "key": "#f58518", "api": "#54a24b"}
WAVE_COLOURS = (
    "#e45756", "#f58518", "#eeca3b", "#72b7b2", "#b279a2",
    "#ff9da6", "#9d755d", "#bab0ac", "#4c78a8", "#54a24b",
)  # fmt: skip
DEFAULT_MAX_KEYS = 150


def wave_colour(wave: int | None) -> str:
    return "#999999" if wave is None else WAVE_COLOURS[(wave - 1) % len(WAVE_COLOURS)]


def _order(items: list[str], neighbours: dict[str, list[str]], rank: dict[str, float]) -> list[str]:
    """Items sorted by the mean rank of their neighbours (stable; no neighbour: keep place)."""

    def centre(i_item: tuple[int, str]) -> tuple[float, int]:
        i, item = i_item
        near = [rank[n] for n in neighbours.get(item, ()) if n in rank]
        return (sum(near) / len(near) if near else (i + 0.5) / len(items), i)

    return [item for _, item in sorted(enumerate(items), key=centre)]


def _ranks(items: Iterable[str]) -> dict[str, float]:
    """Relative heights in 0..1, as drawn (columns of any length are spread over one height)."""
    items = list(items)
    return {item: (i + 0.5) / len(items) for i, item in enumerate(items)}


def _select_keys(inv: Any, plan: Any, graph: Any, max_keys: int) -> list[str]:
    """Keys in plan order (or by blast radius without a plan), at most ``max_keys``."""
    if plan is not None:
        ordered = [s.key for w in plan.waves for s in w.steps]
        missing = [k.id for k in inv.keys if k.id not in set(ordered)]
        ordered += missing
    else:
        sizes = graph.blast_sizes
        ordered = sorted((k.id for k in inv.keys), key=lambda k: (-sizes.get(k, 0), k))
    return ordered[:max_keys]


def draw_graph(
    graph: Any,
    *,
    plan: Any = None,
    layout: str = "kind",
    max_keys: int = DEFAULT_MAX_KEYS,
    title: str | None = None,
) -> Figure:
    """The picture of ``graph`` (a ``DependencyGraph``); ``plan`` gives the wave colours."""
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    if layout == "wave" and plan is None:
        raise InputError("layout 'wave' needs a plan: pass plan=wb.make_plan(inventory)")
    inv = graph.inventory
    wave_of = {s.key: w.number for w in plan.waves for s in w.steps} if plan is not None else {}
    keys = _select_keys(inv, plan, graph, max_keys)
    shown = set(keys)
    key_api = {k.id: k.api for k in inv.keys if k.id in shown}
    holders: dict[str, list[str]] = {k: [] for k in keys}
    held: dict[str, list[str]] = {}
    for i in inv.integrations:
        if i.key in shown and i.consumer not in holders[i.key]:
            holders[i.key].append(i.consumer)
            held.setdefault(i.consumer, []).append(i.key)
    partial = len(keys) < len(inv.keys)
    services = [s.id for s in inv.services if s.id in held or not partial]
    apis = [a.id for a in inv.apis if a.id in set(key_api.values()) or not partial]
    by_api: dict[str, list[str]] = {}
    for k, a in key_api.items():
        by_api.setdefault(a, []).append(k)
    key_neighbours = {k: holders[k] for k in keys}
    api_holders = {a: [s for k in by_api.get(a, ()) for s in holders[k]] for a in apis}

    # Barycentre sweeps. "kind": keys stay grouped by API (no key->API edge crosses another),
    # the groups and the keys inside them move towards their holders. "wave": keys stay
    # grouped by wave and move inside their band.
    keys = sorted(keys, key=lambda k: (wave_of.get(k, 0), key_api[k]) if layout == "wave"
                  else (key_api[k], k))  # fmt: skip
    for _ in range(8):
        services = _order(services, held, _ranks(keys))
        service_rank = _ranks(services)
        if layout == "wave":
            keys = _order(keys, key_neighbours, service_rank)
            keys = sorted(keys, key=lambda k: wave_of.get(k, 0))  # stable: bands stay whole
            apis = _order(apis, by_api, _ranks(keys))
        else:
            apis = _order(apis, api_holders, service_rank)
            keys = [
                k for a in apis for k in _order(by_api.get(a, []), key_neighbours, service_rank)
            ]
    services = _order(services, held, _ranks(keys))

    served = {a.id: a.provided_by for a in inv.apis if a.provided_by}
    api_labels = {a: f"{a} => {served[a]}" if a in served else a for a in apis}
    widths = [max((len(x) for x in col), default=4) * CHAR_IN for col in
              (services, keys, api_labels.values())]  # fmt: skip
    x_service = MARGIN_IN + widths[0] + 0.15
    x_key = x_service + GAP_IN + 0.6
    x_api = x_key + widths[1] + GAP_IN + 0.3
    width = x_api + widths[2] + 0.3 + MARGIN_IN
    rows = max(len(services), len(keys), len(apis), 1)
    body = rows * ROW_IN
    height = body + HEADER_IN + LEGEND_IN

    def ys(n: int) -> list[float]:
        # spread a column over the tallest one: never closer than one row
        step = body / max(n, 1)
        return [LEGEND_IN + body - (i + 0.5) * step for i in range(n)]

    pos = {("service", s): (x_service, y) for s, y in zip(services, ys(len(services)), strict=True)}
    pos |= {("key", k): (x_key, y) for k, y in zip(keys, ys(len(keys)), strict=True)}
    pos |= {("api", a): (x_api, y) for a, y in zip(apis, ys(len(apis)), strict=True)}

    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()

    if layout == "wave" and keys:
        _wave_bands(ax, keys, wave_of, pos, x_key, widths[1])

    for k in keys:
        kx, ky = pos[("key", k)]
        colour = wave_colour(wave_of.get(k)) if wave_of else KIND_COLOURS["key"]
        for s in holders[k]:
            sx, sy = pos[("service", s)]
            ax.plot([sx, kx], [sy, ky], color=colour, alpha=0.55, linewidth=0.8, zorder=1)
        ax_, ay = pos[("api", key_api[k])]
        ax.plot([kx + widths[1] + 0.15, ax_], [ky, ay], color="#999999", alpha=0.7,
                linewidth=0.8, zorder=1)  # fmt: skip
        ax.plot([kx, kx + widths[1] + 0.15], [ky, ky], color="#dddddd", linewidth=0.6, zorder=0)

    label = {"fontsize": FONT_PT, "va": "center", "zorder": 3}
    for s in services:
        x, y = pos[("service", s)]
        ax.scatter([x], [y], s=36, color=KIND_COLOURS["service"], zorder=2, marker="o")
        ax.text(x - 0.1, y, s, ha="right", **label)
    for k in keys:
        x, y = pos[("key", k)]
        colour = wave_colour(wave_of.get(k)) if wave_of else KIND_COLOURS["key"]
        ax.scatter([x], [y], s=40, color=colour, zorder=2, marker="D", edgecolors="#333333",
                   linewidths=0.4)  # fmt: skip
        ax.text(x + 0.1, y, k, ha="left", **label)
    for a in apis:
        x, y = pos[("api", a)]
        ax.scatter([x], [y], s=40, color=KIND_COLOURS["api"], zorder=2, marker="s")
        ax.text(x + 0.1, y, api_labels[a], ha="left", **label)

    top = LEGEND_IN + body + 0.25
    for x, name in ((x_service, "services"), (x_key, "keys"), (x_api, "APIs")):
        ax.text(x, top, name, ha="center", va="bottom", fontsize=9, fontweight="bold")
    shown_note = f" (the first {len(keys)} of {len(inv.keys)} keys)" if partial else ""
    ax.text(width / 2, height - 0.15, (title or "Who holds which key, and what it opens")
            + shown_note, ha="center", va="top", fontsize=11)  # fmt: skip
    _legend(ax, wave_of, bool(served), width)
    return fig


def _wave_bands(ax: Any, keys: list[str], wave_of: dict, pos: dict, x_key: float, w: float) -> None:
    bands: dict[int, list[float]] = {}
    for k in keys:
        bands.setdefault(wave_of.get(k, 0), []).append(pos[("key", k)][1])
    for number, ys in bands.items():
        lo, hi = min(ys) - ROW_IN * 0.45, max(ys) + ROW_IN * 0.45
        ax.add_patch(Rectangle((x_key - 0.5, lo), w + 0.75, hi - lo, color=wave_colour(number),
                               alpha=0.12, zorder=0, linewidth=0))  # fmt: skip
        # short and horizontal: fits a one-key band and never reaches the next band's label
        ax.text(x_key - 0.45, hi - 0.03, f"w{number}", fontsize=7, va="top", ha="left",
                color="#333333", zorder=3)  # fmt: skip


def _legend(ax: Any, wave_of: dict, served: bool, width: float) -> None:
    handles: list[Any] = [
        Line2D([], [], marker="o", linestyle="", color=KIND_COLOURS["service"], label="service"),
        Line2D([], [], marker="D", linestyle="", color=KIND_COLOURS["key"] if not wave_of
               else "#cccccc", markeredgecolor="#333333", label="static key"),
        Line2D([], [], marker="s", linestyle="", color=KIND_COLOURS["api"], label="API"),
    ]  # fmt: skip
    for number in sorted(set(wave_of.values())):
        handles.append(Patch(color=wave_colour(number), label=f"wave {number}"))
    note = "api => service: the service behind the API" if served else None
    ax.legend(handles=handles, loc="lower center", ncols=min(len(handles), 8), fontsize=8,
              frameon=False, bbox_to_anchor=(0.5, 0.0), title=note,
              title_fontsize=7)  # fmt: skip


def save_picture(fig: Figure, path: Any, fmt: str) -> None:
    """Write ``fig`` as ``svg`` (no timestamp: same graph, same bytes) or ``png`` (120 dpi)."""
    if fmt not in PICTURE_FORMATS:
        raise InputError(f"unknown picture format {fmt!r}: use svg or png")
    if fmt == "svg":
        # text stays text (searchable, selectable, smaller) instead of glyph outlines
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "workbench"}):
            fig.savefig(path, format="svg", metadata={"Date": None})
    else:
        fig.savefig(path, format="png", dpi=120, metadata={"Software": None})
