"""Export a dependency graph as text: node-link JSON, GraphML, Graphviz DOT or Mermaid.

Node ids are restricted to ``[a-z0-9._-]`` by the inventory, but labels and attribute values
are user text, so DOT strings are quoted and escaped and Mermaid labels use entity codes.
Mermaid node ids are generated (``n0``, ``n1`` ...) because ``:`` is not an id character there.
"""

from __future__ import annotations

import io
import json
from typing import Any

import networkx as nx

from workbench.errors import InputError
from workbench.graph.build import DependencyGraph

__all__ = ["FORMATS", "export_graph"]

FORMATS = ("json", "graphml", "dot", "mermaid")

_SHAPES = {"service": "box", "key": "ellipse", "api": "hexagon"}


def _flat(value: Any) -> Any:
    """GraphML attributes are scalars: lists become comma-joined strings."""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def _json(g: nx.DiGraph) -> str:
    data = nx.node_link_data(g, edges="edges")
    return json.dumps(data, indent=2, sort_keys=False, default=list) + "\n"


def _graphml(g: nx.DiGraph) -> str:
    flat = nx.DiGraph()
    flat.add_nodes_from(
        (n, {k: _flat(v) for k, v in d.items() if v is not None}) for n, d in g.nodes(data=True)
    )
    flat.add_edges_from(
        (u, v, {k: _flat(x) for k, x in d.items() if x is not None})
        for u, v, d in g.edges(data=True)
    )
    buf = io.BytesIO()
    nx.write_graphml(flat, buf, encoding="utf-8")
    return buf.getvalue().decode("utf-8")


def dot_quote(text: str) -> str:
    """A DOT double-quoted string: backslash, quote and line breaks escaped."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r", "").replace("\n", "\\n")
    return f'"{text}"'


def _label(d: dict[str, Any], node: str) -> str:
    label = str(d.get("label", node))
    extra = d.get("data_classes") if d.get("kind") == "api" else d.get("exposure")
    if extra:
        label += f" ({_flat(extra)})"
    return label


def _dot(g: nx.DiGraph) -> str:
    lines = ["digraph workbench {", "  rankdir=LR;"]
    for n, d in g.nodes(data=True):
        shape = _SHAPES.get(d.get("kind", ""), "box")
        lines.append(f"  {dot_quote(n)} [label={dot_quote(_label(d, n))}, shape={shape}];")
    for u, v, d in g.edges(data=True):
        lines.append(f"  {dot_quote(u)} -> {dot_quote(v)} [label={dot_quote(d.get('kind', ''))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    "\n": " ",
    "\r": " ",
}


def mermaid_escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label (no quote, markup or line break survives)."""
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)


def _mermaid(g: nx.DiGraph) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(g.nodes)}
    brackets = {"service": ('["', '"]'), "key": ('(["', '"])'), "api": ('{{"', '"}}')}
    lines = ["flowchart LR"]
    for n, d in g.nodes(data=True):
        open_, close = brackets.get(d.get("kind", ""), ('["', '"]'))
        lines.append(f"  {ids[n]}{open_}{mermaid_escape(_label(d, n))}{close}")
    for u, v, d in g.edges(data=True):
        lines.append(f'  {ids[u]} -->|"{mermaid_escape(d.get("kind", ""))}"| {ids[v]}')
    return "\n".join(lines) + "\n"


def export_graph(graph: DependencyGraph | nx.DiGraph, fmt: str = "json") -> str:
    """The graph as text in ``fmt`` (one of :data:`FORMATS`)."""
    g = graph.nx if isinstance(graph, DependencyGraph) else graph
    if fmt == "json":
        return _json(g)
    if fmt == "graphml":
        return _graphml(g)
    if fmt == "dot":
        return _dot(g)
    if fmt == "mermaid":
        return _mermaid(g)
    raise InputError(f"unknown graph format {fmt!r}; use one of {', '.join(FORMATS)}")
