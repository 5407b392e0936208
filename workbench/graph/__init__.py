"""The key/service/API dependency graph, its analyses and its exports (networkx)."""

from workbench.graph.analyses import (
    BusyService,
    GraphReport,
    MixedEnvironmentKey,
    SharedKey,
    analyse,
)
from workbench.graph.build import BlastRadius, DependencyGraph, build_graph, node_id
from workbench.graph.export import FORMATS, export_graph

__all__ = [
    "FORMATS",
    "BlastRadius",
    "BusyService",
    "DependencyGraph",
    "GraphReport",
    "MixedEnvironmentKey",
    "SharedKey",
    "analyse",
    "build_graph",
    "export_graph",
    "node_id",
]
