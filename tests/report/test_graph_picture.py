"""The graph picture is readable: no label overlaps another, a legend with the wave colours."""

import xml.etree.ElementTree as ET

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from report_support import TEAM_INVENTORY
from testkit import SAMPLE

import workbench as wb
from workbench.cli import main
from workbench.graph.picture import draw_graph, wave_colour


def _labels(fig) -> list[Text]:
    FigureCanvasAgg(fig).draw()  # a real raster canvas: text extents as drawn
    ax = fig.axes[0]
    legend = ax.get_legend()
    return [t for t in ax.texts if t.get_text()] + (list(legend.get_texts()) if legend else [])


def _overlaps(fig) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    boxes = sorted(
        ((t.get_window_extent(renderer), t.get_text()) for t in _labels(fig)),
        key=lambda b: b[0].y0,
    )
    bad = []
    for i, (a, name_a) in enumerate(boxes):
        for b, name_b in boxes[i + 1 :]:
            if b.y0 >= a.y1:
                break  # sorted by bottom edge: nothing further up can touch a
            if a.x0 < b.x1 and b.x0 < a.x1:
                bad.append((name_a, name_b))
    return bad


def _synthetic(n_keys: int):
    """A bigger inventory: n keys on n/3 APIs, each held by 1-4 of n/2 services."""
    apis = [
        wb.Api(f"api-{i}", f"https://h/{i}", ("pii",), "team", "prod") for i in range(n_keys // 3)
    ]
    services = [wb.Service(f"service-number-{i}", "team", "prod") for i in range(n_keys // 2)]
    keys = [wb.Key(f"key-{i:03d}", apis[i % len(apis)].id) for i in range(n_keys)]
    integrations = [
        wb.Integration(services[(i * 7 + j) % len(services)].id, k.id)
        for i, k in enumerate(keys)
        for j in range(1 + i % 4)
    ]
    return wb.Inventory(tuple(apis), tuple(services), tuple(keys), tuple(integrations))


@pytest.mark.parametrize("layout", ["kind", "wave"])
@pytest.mark.parametrize("source", ["sample", "team", "synthetic-90"])
def test_no_label_overlaps_another(source, layout):
    inv = {
        "sample": lambda: wb.load_inventory(SAMPLE),
        "team": lambda: wb.load_inventory(TEAM_INVENTORY),
        "synthetic-90": lambda: _synthetic(90),
    }[source]()
    graph = wb.build_graph(inv)
    fig = draw_graph(graph, plan=wb.make_plan(inv), layout=layout)
    labels = {t.get_text() for t in _labels(fig)}
    assert {k.id for k in inv.keys} <= labels and {s.id for s in inv.services} <= labels
    assert _overlaps(fig) == []


def test_legend_names_kinds_and_every_wave_in_its_colour():
    inv = wb.load_inventory(SAMPLE)
    plan = wb.make_plan(inv, wave_size=4)
    fig = draw_graph(wb.build_graph(inv), plan=plan, layout="wave")
    legend = fig.axes[0].get_legend()
    names = [t.get_text() for t in legend.get_texts()]
    waves = [w.number for w in plan.waves]
    assert names[:3] == ["service", "static key", "API"]
    assert names[3:] == [f"wave {n}" for n in waves]
    handles = legend.legend_handles
    for n, handle in zip(waves, handles[3:], strict=True):
        assert handle.get_facecolor()[:3] == pytest.approx(
            tuple(int(wave_colour(n)[i : i + 2], 16) / 255 for i in (1, 3, 5))
        )


def _crossings(edges: list[tuple[float, float]]) -> int:
    return sum(
        1 for i, a in enumerate(edges) for b in edges[i + 1 :] if (a[0] - b[0]) * (a[1] - b[1]) < 0
    )


def test_the_sample_is_ordered_so_that_few_edges_cross():
    """Barycentre ordering: far fewer crossings than the inventory's own order."""
    inv = wb.load_inventory(SAMPLE)
    fig = draw_graph(wb.build_graph(inv), plan=wb.make_plan(inv), layout="kind")
    ax = fig.axes[0]
    y = {t.get_text().split(" => ")[0]: t.get_position()[1] for t in ax.texts}
    drawn = [(y[i.consumer], y[i.key]) for i in inv.integrations]
    drawn_api = [(y[k.id], y[k.api]) for k in inv.keys]
    order = {x.id: -n for col in (inv.services, inv.keys, inv.apis) for n, x in enumerate(col)}
    naive = [(order[i.consumer], order[i.key]) for i in inv.integrations]
    naive_api = [(order[k.id], order[k.api]) for k in inv.keys]
    assert _crossings(drawn_api) <= 2
    assert (
        _crossings(drawn) + _crossings(drawn_api) < (_crossings(naive) + _crossings(naive_api)) / 2
    )


def test_big_inventories_draw_the_first_keys_and_say_so():
    inv = _synthetic(300)
    fig = draw_graph(wb.build_graph(inv), plan=wb.make_plan(inv), max_keys=60)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum(1 for t in texts if t.startswith("key-")) == 60
    assert any("the first 60 of 300 keys" in t for t in texts)


def test_wave_layout_needs_a_plan():
    inv = wb.load_inventory(SAMPLE)
    with pytest.raises(wb.InputError, match="needs a plan"):
        draw_graph(wb.build_graph(inv), layout="wave")


@pytest.mark.parametrize("layout", ["kind", "wave"])
def test_cli_svg_has_every_node_as_text(tmp_path, layout):
    out = tmp_path / "graph.svg"
    argv = ["graph", str(SAMPLE), "--format", "svg", "--layout", layout, "-o", str(out)]
    assert main(argv) == 0
    root = ET.parse(out).getroot()
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    inv = wb.load_inventory(SAMPLE)
    for ident in [k.id for k in inv.keys] + [s.id for s in inv.services] + ["wave 1"]:
        assert ident in text


def test_cli_png_and_its_errors(tmp_path, capsys):
    out = tmp_path / "graph.png"
    assert main(["graph", str(TEAM_INVENTORY), "--format", "png", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["graph", str(TEAM_INVENTORY), "--format", "png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "-o" in err[0]
    missing = tmp_path / "nope" / "g.svg"
    assert main(["graph", str(TEAM_INVENTORY), "--format", "svg", "-o", str(missing)]) == 2
    assert not missing.parent.exists()
