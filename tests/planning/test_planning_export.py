"""Every export format parses back, and user text cannot break out of DOT or Mermaid."""

from __future__ import annotations

import io
import json
import re

import networkx as nx
import pytest
from planning_support import make_inventory

from workbench.errors import InputError
from workbench.graph import FORMATS, build_graph, export_graph


@pytest.fixture
def hostile_graph():
    # ids are safe, but data classes and environments are free text in the model.
    inv = make_inventory(
        apis=[("api1", ['pii"];evil', "a|b#c<d>"], "prod", "svc-b")],
        services=[("svc-a", "prod\n}", 'internal"'), ("svc-b", "prod", "internal")],
        keys=[("k1", "api1")],
        uses=[("svc-a", "k1")],
    )
    return build_graph(inv)


def test_json_round_trips_through_node_link_graph(chain_inv):
    graph = build_graph(chain_inv)
    back = nx.node_link_graph(json.loads(export_graph(graph, "json")), edges="edges")
    assert set(back.nodes) == set(graph.nx.nodes)
    assert set(back.edges) == set(graph.nx.edges)
    assert back.nodes["api:api1"]["data_classes"] == ["pii"]
    assert back.edges["service:top", "key:k1"]["kind"] == "uses"


def test_graphml_round_trips_through_read_graphml(chain_inv):
    graph = build_graph(chain_inv)
    back = nx.read_graphml(io.BytesIO(export_graph(graph, "graphml").encode()))
    assert set(back.nodes) == set(graph.nx.nodes)
    assert set(back.edges) == set(graph.nx.edges)
    assert back.nodes["api:api1"]["data_classes"] == "pii"
    assert back.nodes["service:vendor"]["third_party"] is True


def test_dot_structure(chain_inv):
    graph = build_graph(chain_inv)
    text = export_graph(graph, "dot")
    assert text.startswith("digraph workbench {") and text.rstrip().endswith("}")
    node_lines = [ln for ln in text.splitlines() if re.match(r'^  "[^"]+" \[label=', ln)]
    edge_lines = [ln for ln in text.splitlines() if " -> " in ln]
    assert len(node_lines) == graph.nx.number_of_nodes()
    assert len(edge_lines) == graph.nx.number_of_edges()
    assert '  "service:top" -> "key:k1" [label="uses"];' in text


def test_dot_escapes_labels(hostile_graph):
    text = export_graph(hostile_graph, "dot")
    # One statement per line: a raw newline or an unescaped quote would break this.
    body = text.splitlines()[2:-1]
    assert len(body) == hostile_graph.nx.number_of_nodes() + hostile_graph.nx.number_of_edges()
    for line in body:
        # every double quote is either a delimiter or escaped
        unescaped = re.sub(r"\\.", "", line).count('"')
        assert unescaped % 2 == 0, line
        assert line.endswith("];"), line
    assert r"pii\"];evil" in text


def test_mermaid_structure_and_escaping(hostile_graph, chain_inv):
    text = export_graph(build_graph(chain_inv), "mermaid")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    g = build_graph(chain_inv).nx
    assert sum(1 for ln in lines if "-->" in ln) == g.number_of_edges()
    assert sum(1 for ln in lines[1:] if "-->" not in ln) == g.number_of_nodes()
    for ln in lines[1:]:
        assert re.match(r"^  n\d+", ln), ln

    hostile = export_graph(hostile_graph, "mermaid")
    for ln in hostile.splitlines()[1:]:
        if "-->" in ln:
            continue
        label = re.match(r'^  n\d+[\[\(\{]+"(.*)"[\]\)\}]+$', ln)
        assert label, ln
        assert not set(label.group(1)) & set('"<>|`'), ln
    assert "#quot;" in hostile and "#lt;" in hostile and "#35;" in hostile
    assert len(hostile.splitlines()) == 1 + 4 + 3


def test_unknown_format_is_an_input_error(chain_inv):
    assert FORMATS == ("json", "graphml", "dot", "mermaid")
    with pytest.raises(InputError):
        export_graph(build_graph(chain_inv), "png")
