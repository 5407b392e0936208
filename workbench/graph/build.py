"""The key/service/API dependency graph and the reachability it is built for.

Nodes are namespaced ids (``service:x``, ``key:x``, ``api:x``); edges point from what depends
to what it depends on: consumer -> key -> API -> the service that serves it
(``Api.provided_by``). So the callers of a service reach it, and when a service breaks every
service that reaches it breaks too.

The networkx graph is for export and ad-hoc analysis. The per-key blast radius is computed
on plain int adjacency lists over services only: the service dependency graph is condensed
into strongly connected components once, each component's dependents are computed once in
topological order as a Python int bitset, and a key's blast radius is the OR of its
consumers' bitsets. ``nx.descendants`` per key costs ~n^1.5 (~7 s at 100k integrations);
this took ~0.4 s CPU (components, reach tables and every key's size) at 100k. Worst case
(long dependency chains) each component's OR costs services/64 machine words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import networkx as nx

from workbench.errors import InventoryError, Problem
from workbench.graph.algorithms import gc_paused, strongly_connected
from workbench.inventory.model import EXPOSURES, Inventory

__all__ = [
    "BlastRadius",
    "DependencyGraph",
    "build_graph",
    "node_id",
]

_EXPOSURE_RANK = {e: i for i, e in enumerate(EXPOSURES)}  # internet first: worst first


def node_id(kind: str, ident: str) -> str:
    """The graph node id of an entity: ``service:x``, ``key:x`` or ``api:x``."""
    return f"{kind}:{ident}"


@dataclass(frozen=True)
class BlastRadius:
    """What breaks if the cut-over of one key goes wrong."""

    key: str
    """The key id."""
    consumers: tuple[str, ...]
    """Services that use the key directly, in declaration order."""
    services: tuple[str, ...]
    """Every affected service, sorted: the consumers and, transitively, every service that
    calls an API served by an affected service."""
    exposures: tuple[str, ...]
    """Distinct exposures of the affected services, worst first (internet, partner, internal)."""
    apis: tuple[str, ...]
    """APIs served by an affected service (they go down with it), sorted."""
    data_classes: tuple[str, ...]
    """Data classes of the key's own API and of ``apis``, sorted."""

    @property
    def size(self) -> int:
        """Number of affected services."""
        return len(self.services)


class DependencyGraph:
    """The networkx graph of an inventory plus fast reachability over its services.

    Build it with :func:`build_graph`. ``nx`` is the networkx ``DiGraph``; treat it as
    read-only (the reachability tables are computed from the inventory, not re-read from it).
    """

    def __init__(self, inventory: Inventory, graph: nx.DiGraph) -> None:
        self.inventory = inventory
        """The inventory the graph was built from."""
        self.nx = graph
        """The networkx graph (read-only by convention)."""
        self._services: list[str] = [s.id for s in inventory.services]
        self._index: dict[str, int] = {sid: i for i, sid in enumerate(self._services)}
        consumers = inventory.consumers_by_key
        self._key_consumers: dict[str, tuple[int, ...]] = {
            k.id: tuple(self._index[c] for c in consumers.get(k.id, ())) for k in inventory.keys
        }

    # ----- simple lookups -------------------------------------------------------------

    def consumers(self, key_id: str) -> tuple[str, ...]:
        """Services using ``key_id`` directly, in declaration order."""
        return self.inventory.consumers_of(key_id)

    @cached_property
    def keys_by_service(self) -> Mapping[str, tuple[str, ...]]:
        """Service id -> ids of the keys it holds, in declaration order."""
        out: dict[str, list[str]] = {s: [] for s in self._services}
        for key_id, idxs in self._key_consumers.items():
            for i in idxs:
                out[self._services[i]].append(key_id)
        return MappingProxyType({s: tuple(v) for s, v in out.items()})

    @cached_property
    def apis_served_by(self) -> Mapping[str, tuple[str, ...]]:
        """Service id -> ids of the APIs it serves."""
        out: dict[str, list[str]] = {}
        for api in self.inventory.apis:
            if api.provided_by is not None:
                out.setdefault(api.provided_by, []).append(api.id)
        return MappingProxyType({s: tuple(v) for s, v in out.items()})

    # ----- service dependency graph, condensed ---------------------------------------

    @cached_property
    def _dependents_adj(self) -> list[list[int]]:
        """provider index -> indexes of the services that call one of its APIs (deduped)."""
        inv = self.inventory
        adj: list[set[int]] = [set() for _ in self._services]
        apis = inv.apis_by_id
        for key in inv.keys:
            provider = apis[key.api].provided_by
            if provider is None:
                continue
            p = self._index[provider]
            adj[p].update(self._key_consumers[key.id])
        return [sorted(s) for s in adj]

    @cached_property
    def _condensed(self) -> tuple[list[int], list[list[int]], list[list[int]], list[bool]]:
        """(component of each service, members per component, dependents per component,
        component is a cycle), components numbered so that every component comes after all
        the components it reaches (dependents first)."""
        adj = self._dependents_adj
        with gc_paused():
            members = strongly_connected(adj)
            comp = [0] * len(adj)
            for c, ms in enumerate(members):
                for m in ms:
                    comp[m] = c
            succ = []
            for c, ms in enumerate(members):
                out = {comp[w] for m in ms for w in adj[m]}
                out.discard(c)
                succ.append(sorted(out))
        cyclic = [len(m) > 1 or m[0] in adj[m[0]] for m in members]
        return comp, members, succ, cyclic

    @cached_property
    def _reach(self) -> tuple[dict[int, int], dict[int, frozenset[str]], dict[int, frozenset[str]]]:
        """Per non-trivial component: bitset of itself plus all transitive dependents, and the
        exposures and served data classes of that set. Trivial components (one service that
        nobody calls) are left out: their answer is the service itself."""
        comp, members, succ, _ = self._condensed
        inv = self.inventory
        services = inv.services
        apis = inv.apis_by_id
        served = self.apis_served_by
        bits: dict[int, int] = {}
        exps: dict[int, frozenset[str]] = {}
        dcs: dict[int, frozenset[str]] = {}
        with gc_paused():
            for c in range(len(members)):  # dependents come first
                if not succ[c] and len(members[c]) == 1:
                    continue
                b = 0
                e: set[str] = set()
                d: set[str] = set()
                for m in members[c]:
                    b |= 1 << m
                    e.add(services[m].exposure)
                    for a in served.get(services[m].id, ()):
                        d.update(apis[a].data_classes)
                for s in succ[c]:
                    if s in bits:
                        b |= bits[s]
                        e |= exps[s]
                        d |= dcs[s]
                    else:
                        (m,) = members[s]
                        b |= 1 << m
                        e.add(services[m].exposure)
                        for a in served.get(services[m].id, ()):
                            d.update(apis[a].data_classes)
                bits[c], exps[c], dcs[c] = b, frozenset(e), frozenset(d)
        return bits, exps, dcs

    def _key_bits(self, key_id: str) -> int | None:
        """The blast radius bitset of a key, or None when it is just its consumers."""
        comp = self._condensed[0]
        bits = self._reach[0]
        out = None
        for i in self._key_consumers[key_id]:
            b = bits.get(comp[i])
            if b is not None:
                out = b if out is None else out | b
        if out is None:
            return None
        for i in self._key_consumers[key_id]:
            out |= 1 << i
        return out

    def blast_size(self, key_id: str) -> int:
        """Number of services affected if ``key_id``'s cut-over goes wrong."""
        b = self._key_bits(key_id)
        return len(self._key_consumers[key_id]) if b is None else b.bit_count()

    def blast_sizes(self) -> Mapping[str, int]:
        """Blast radius size of every key, in declaration order (computed once)."""
        return self._blast_sizes

    @cached_property
    def _blast_sizes(self) -> Mapping[str, int]:
        return MappingProxyType({k: self.blast_size(k) for k in self._key_consumers})

    def _services_of(self, bits: int) -> list[str]:
        s = bin(bits)[:1:-1]  # little-endian digit string: position == service index
        out: list[str] = []
        i = s.find("1")
        while i >= 0:
            out.append(self._services[i])
            i = s.find("1", i + 1)
        return out

    def blast_radius(self, key_id: str) -> BlastRadius:
        """Everything that breaks if ``key_id``'s cut-over goes wrong."""
        if key_id not in self._key_consumers:
            raise KeyError(key_id)
        inv = self.inventory
        idxs = self._key_consumers[key_id]
        comp = self._condensed[0]
        bits, exps, dcs = self._reach
        b = self._key_bits(key_id)
        names = [self._services[i] for i in idxs] if b is None else self._services_of(b)
        exposures: set[str] = set()
        classes: set[str] = set(inv.apis_by_id[inv.key(key_id).api].data_classes)
        for i in idxs:
            c = comp[i]
            if c in bits:
                exposures |= exps[c]
                classes |= dcs[c]
            else:
                exposures.add(inv.services[i].exposure)
        served = self.apis_served_by
        apis = sorted(a for n in names for a in served.get(n, ()))
        for a in apis:
            classes.update(inv.apis_by_id[a].data_classes)
        return BlastRadius(
            key=key_id,
            consumers=self.consumers(key_id),
            services=tuple(sorted(names)),
            exposures=tuple(sorted(exposures, key=lambda e: (_EXPOSURE_RANK.get(e, 99), e))),
            apis=tuple(apis),
            data_classes=tuple(sorted(classes)),
        )

    def dependents(self, service_id: str) -> tuple[str, ...]:
        """Every service that transitively calls an API served by ``service_id`` (sorted)."""
        i = self._index[service_id]
        comp = self._condensed[0]
        b = self._reach[0].get(comp[i])
        if b is None:
            return ()
        return tuple(sorted(n for n in self._services_of(b) if n != service_id))

    def service_cycles(self) -> tuple[tuple[str, ...], ...]:
        """Groups of services that depend on each other in a cycle (strongly connected
        components of two or more, or a service calling its own API), each sorted."""
        _, members, _, cyclic = self._condensed
        groups = [
            tuple(sorted(self._services[m] for m in ms))
            for ms, cyc in zip(members, cyclic, strict=True)
            if cyc
        ]
        return tuple(sorted(groups))


def _check_references(inv: Inventory) -> None:
    problems: list[Problem] = []

    def where(loc: object) -> tuple[str, int, int]:
        if loc is None:
            return (inv.source or "-", 0, 0)
        return (loc.file, loc.line, loc.col)  # type: ignore[attr-defined]

    services, apis, keys = inv.services_by_id, inv.apis_by_id, inv.keys_by_id
    for a in inv.apis:
        if a.provided_by is not None and a.provided_by not in services:
            problems.append(
                Problem(
                    *where(a.location),
                    f"api {a.id!r}: provided_by names unknown service "
                    f"{a.provided_by!r}; declare it under services or drop provided_by",
                )
            )
    for k in inv.keys:
        if k.api not in apis:
            problems.append(
                Problem(
                    *where(k.location),
                    f"key {k.id!r}: unknown api {k.api!r}; declare it under apis",
                )
            )
    for i in inv.integrations:
        if i.consumer not in services:
            problems.append(
                Problem(
                    *where(i.location),
                    f"integration: unknown consumer {i.consumer!r}; declare it under services",
                )
            )
        if i.key not in keys:
            problems.append(
                Problem(
                    *where(i.location), f"integration: unknown key {i.key!r}; declare it under keys"
                )
            )
    if problems:
        raise InventoryError(problems, file=inv.source or "-")


def build_graph(inv: Inventory) -> DependencyGraph:
    """Build the dependency graph of ``inv``.

    Raises InventoryError when a reference dangles (the loader reports these first; this
    guards hand-built inventories).
    """
    _check_references(inv)
    apis = inv.apis_by_id
    g: nx.DiGraph = nx.DiGraph()
    with gc_paused():
        g.add_nodes_from(
            (
                node_id("api", a.id),
                {
                    "kind": "api",
                    "label": a.id,
                    "owner": a.owner,
                    "environment": a.environment,
                    "data_classes": a.data_classes,
                    "url": a.url,
                },
            )
            for a in inv.apis
        )
        g.add_nodes_from(
            (
                node_id("service", s.id),
                {
                    "kind": "service",
                    "label": s.id,
                    "owner": s.owner,
                    "environment": s.environment,
                    "exposure": s.exposure,
                    "third_party": s.third_party,
                },
            )
            for s in inv.services
        )
        g.add_nodes_from(
            (
                node_id("key", k.id),
                {
                    "kind": "key",
                    "label": k.id,
                    "owner": apis[k.api].owner,
                    "environment": apis[k.api].environment,
                    "data_classes": apis[k.api].data_classes,
                },
            )
            for k in inv.keys
        )
        g.add_edges_from(
            (node_id("key", k.id), node_id("api", k.api), {"kind": "accepted_by"}) for k in inv.keys
        )
        g.add_edges_from(
            (node_id("api", a.id), node_id("service", a.provided_by), {"kind": "served_by"})
            for a in inv.apis
            if a.provided_by is not None
        )
        g.add_edges_from(
            (node_id("service", i.consumer), node_id("key", i.key), {"kind": "uses"})
            for i in inv.integrations
        )
    return DependencyGraph(inv, g)
