"""Analyses of a dependency graph, gathered into one report.

Everything here is a risky-but-legal fact (a cycle is reported, never fatal); the inventory
validator may turn them into :class:`~workbench.inventory.model.Finding` via
:meth:`GraphReport.findings`.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass
from typing import Any

from workbench.graph.build import BlastRadius, DependencyGraph
from workbench.inventory.model import Finding, Severity

__all__ = [
    "BusyService",
    "GraphReport",
    "MixedEnvironmentKey",
    "SharedKey",
    "analyse",
    "busy_services",
    "mixed_environment_keys",
    "orphan_keys",
    "shared_keys",
    "top_blast_radii",
]


@dataclass(frozen=True)
class SharedKey:
    """A key used by more than one service: one leak exposes them all."""

    key: str
    """The key id."""
    consumers: tuple[str, ...]
    """Its consumers, in declaration order."""


@dataclass(frozen=True)
class MixedEnvironmentKey:
    """A key whose API and consumers are not all in one environment."""

    key: str
    """The key id."""
    api_environment: str
    """Environment of the API that accepts the key."""
    consumer_environments: tuple[str, ...]
    """Distinct environments of its consumers, sorted."""


@dataclass(frozen=True)
class BusyService:
    """A service holding many keys: a large cut-over on its own."""

    service: str
    """The service id."""
    keys: tuple[str, ...]
    """The keys it holds, in declaration order."""


@dataclass(frozen=True)
class GraphReport:
    """Every analysis of one graph."""

    counts: dict[str, int]
    """Number of nodes per kind and of edges."""
    shared_keys: tuple[SharedKey, ...]
    """Keys with more than one consumer, most consumers first (ties by id)."""
    blast_radii: tuple[BlastRadius, ...]
    """The largest blast radii, largest first (ties by key id)."""
    cycles: tuple[tuple[str, ...], ...]
    """Groups of services depending on each other in a cycle."""
    mixed_environment_keys: tuple[MixedEnvironmentKey, ...]
    """Keys spanning environments, by id."""
    orphan_keys: tuple[str, ...]
    """Keys nobody uses (revoke only), by id."""
    busy_services: tuple[BusyService, ...]
    """Services holding at least the threshold number of keys, most keys first."""
    busy_threshold: int
    """The threshold used for ``busy_services``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        d = asdict(self)
        for b, br in zip(d["blast_radii"], self.blast_radii, strict=True):
            b["size"] = br.size
        return d

    def findings(self) -> tuple[Finding, ...]:
        """The report as inventory findings (locations from the inventory when known)."""
        out: list[Finding] = []
        for s in self.shared_keys:
            out.append(
                Finding(
                    "key-shared",
                    Severity.WARNING,
                    s.key,
                    f"key {s.key} is shared by {len(s.consumers)} services: "
                    f"{', '.join(s.consumers)}",
                )
            )
        for m in self.mixed_environment_keys:
            out.append(
                Finding(
                    "key-spans-environments",
                    Severity.HIGH,
                    m.key,
                    f"key {m.key} for a {m.api_environment} API is used from "
                    f"{', '.join(m.consumer_environments)}",
                )
            )
        for k in self.orphan_keys:
            out.append(
                Finding("key-orphan", Severity.INFO, k, f"key {k} has no consumers; revoke it")
            )
        for group in self.cycles:
            out.append(
                Finding(
                    "service-cycle",
                    Severity.WARNING,
                    group[0],
                    f"services depend on each other in a cycle: {' <-> '.join(group)}",
                )
            )
        for b in self.busy_services:
            out.append(
                Finding(
                    "service-busy",
                    Severity.INFO,
                    b.service,
                    f"service {b.service} holds {len(b.keys)} keys",
                )
            )
        return tuple(out)


def shared_keys(graph: DependencyGraph) -> tuple[SharedKey, ...]:
    """Keys with more than one consumer, most consumers first, ties by id."""
    items = [SharedKey(k, cs) for k, cs in graph.inventory.consumers_by_key.items() if len(cs) > 1]
    return tuple(sorted(items, key=lambda s: (-len(s.consumers), s.key)))


def orphan_keys(graph: DependencyGraph) -> tuple[str, ...]:
    """Keys without consumers, by id."""
    return tuple(sorted(k.id for k in graph.inventory.keys if not graph.consumers(k.id)))


def mixed_environment_keys(graph: DependencyGraph) -> tuple[MixedEnvironmentKey, ...]:
    """Keys whose API environment and consumer environments are not all the same."""
    inv = graph.inventory
    out = []
    for k in inv.keys:
        api_env = inv.api(k.api).environment
        envs = {inv.service(c).environment for c in graph.consumers(k.id)}
        if envs and envs != {api_env}:
            out.append(MixedEnvironmentKey(k.id, api_env, tuple(sorted(envs))))
    return tuple(sorted(out, key=lambda m: m.key))


def busy_services(graph: DependencyGraph, threshold: int = 3) -> tuple[BusyService, ...]:
    """Services holding ``threshold`` keys or more, most keys first, ties by id."""
    items = [BusyService(s, ks) for s, ks in graph.keys_by_service.items() if len(ks) >= threshold]
    return tuple(sorted(items, key=lambda b: (-len(b.keys), b.service)))


def top_blast_radii(graph: DependencyGraph, top: int = 10) -> tuple[BlastRadius, ...]:
    """The ``top`` largest blast radii (ties by key id). Sizes are computed for every key
    cheaply; full radii only for the winners."""
    sizes = graph.blast_sizes()
    best = heapq.nsmallest(top, sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(graph.blast_radius(k) for k, _ in best)


def analyse(graph: DependencyGraph, *, top: int = 10, busy_threshold: int = 3) -> GraphReport:
    """Run every analysis on ``graph``."""
    kinds: dict[str, int] = {"api": 0, "service": 0, "key": 0}
    for _, kind in graph.nx.nodes(data="kind"):
        kinds[kind] = kinds.get(kind, 0) + 1
    kinds["edges"] = graph.nx.number_of_edges()
    return GraphReport(
        counts=kinds,
        shared_keys=shared_keys(graph),
        blast_radii=top_blast_radii(graph, top),
        cycles=graph.service_cycles(),
        mixed_environment_keys=mixed_environment_keys(graph),
        orphan_keys=orphan_keys(graph),
        busy_services=busy_services(graph, busy_threshold),
        busy_threshold=busy_threshold,
    )
