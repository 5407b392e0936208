"""The dependency graph and each of its analyses, on small hand-built inventories."""

from __future__ import annotations

import json
import random

import networkx as nx
import pytest
from planning_support import make_inventory

from workbench.errors import InventoryError
from workbench.graph import analyse, build_graph
from workbench.graph.analyses import (
    busy_services,
    mixed_environment_keys,
    orphan_keys,
    shared_keys,
)
from workbench.inventory.model import Integration, Inventory, Location


def test_nodes_edges_and_attributes(chain_inv):
    g = build_graph(chain_inv).nx
    assert g.nodes["service:top"] == {
        "kind": "service",
        "label": "top",
        "owner": "team-top",
        "environment": "prod",
        "exposure": "internet",
        "third_party": False,
    }
    assert g.nodes["api:api1"]["data_classes"] == ("pii",)
    assert g.nodes["key:k1"]["kind"] == "key"
    assert g.nodes["key:k1"]["environment"] == "prod"
    # consumer -> key -> API -> serving service
    assert g.has_edge("service:top", "key:k1")
    assert g.has_edge("key:k1", "api:api1")
    assert g.has_edge("api:api1", "service:mid")
    assert not g.has_edge("api:api3", "service:bottom")
    assert g.number_of_nodes() == 4 + 5 + 5


def test_consumers_dedupe_and_keep_order(chain_inv):
    graph = build_graph(chain_inv)
    assert graph.consumers("k4") == ("qa", "vendor", "top")
    assert graph.consumers("k5") == ()
    assert graph.keys_by_service["top"] == ("k1", "k4")


def test_shared_keys(chain_inv):
    shared = shared_keys(build_graph(chain_inv))
    assert [(s.key, s.consumers) for s in shared] == [("k4", ("qa", "vendor", "top"))]


def test_blast_radius_is_transitive_through_provided_by(chain_inv):
    graph = build_graph(chain_inv)
    k3 = graph.blast_radius("k3")
    # bottom breaks; mid calls bottom's api2; top calls mid's api1.
    assert k3.services == ("bottom", "mid", "top")
    assert k3.consumers == ("bottom",)
    assert k3.exposures == ("internet", "internal")
    assert k3.apis == ("api1", "api2")
    assert k3.data_classes == ("internal", "pci", "pii")
    assert k3.size == 3
    assert graph.blast_radius("k2").services == ("mid", "top")
    assert graph.blast_radius("k1").services == ("top",)
    assert graph.blast_radius("k1").apis == ()
    assert graph.blast_radius("k5").services == ()
    assert dict(graph.blast_sizes()) == {"k1": 1, "k2": 2, "k3": 3, "k4": 3, "k5": 0}
    assert graph.dependents("bottom") == ("mid", "top")
    assert graph.dependents("top") == ()
    with pytest.raises(KeyError):
        graph.blast_radius("nope")


def test_blast_radius_through_a_cycle(cycle_inv):
    graph = build_graph(cycle_inv)
    # kb breaks a; b and front call a's API; a calls b's: all three.
    assert graph.blast_radius("kb").services == ("a", "b", "front")
    assert graph.blast_radius("ka").services == ("a", "b", "front")
    assert graph.blast_radius("kc").services == ("c",)


def _brute_force(inv: Inventory) -> dict[str, set[str]]:
    """Independent answer: services among the networkx ancestors of each consumer."""
    g = build_graph(inv).nx
    out = {}
    for key in inv.keys:
        affected = set()
        for c in inv.consumers_of(key.id):
            affected.add(c)
            for n in nx.ancestors(g, f"service:{c}"):
                if n.startswith("service:"):
                    affected.add(n.removeprefix("service:"))
        out[key.id] = affected
    return out


@pytest.mark.parametrize("seed", range(8))
def test_blast_radius_matches_networkx_ancestors_on_random_graphs(seed):
    rnd = random.Random(seed)
    n_s, n_a, n_k = 30, 12, 25
    services = [(f"s{i}", "prod", rnd.choice(["internet", "partner", "internal"])) for i in
                range(n_s)]  # fmt: skip
    apis = [
        (f"a{i}", ["pii"], "prod", f"s{rnd.randrange(n_s)}" if rnd.random() < 0.7 else None)
        for i in range(n_a)
    ]
    keys = [(f"k{i}", f"a{rnd.randrange(n_a)}") for i in range(n_k)]
    uses = [(f"s{rnd.randrange(n_s)}", f"k{rnd.randrange(n_k)}") for _ in range(45)]
    inv = make_inventory(apis, services, keys, uses)
    graph = build_graph(inv)
    expected = _brute_force(inv)
    for key in inv.keys:
        br = graph.blast_radius(key.id)
        assert set(br.services) == expected[key.id], key.id
        assert graph.blast_size(key.id) == len(expected[key.id])
        exposures = {inv.service(s).exposure for s in expected[key.id]}
        assert set(br.exposures) == exposures


def test_cycles_are_reported_not_fatal(cycle_inv, chain_inv):
    assert build_graph(cycle_inv).service_cycles() == (("a", "b"), ("c",))
    assert build_graph(chain_inv).service_cycles() == ()


def test_mixed_environment_keys(chain_inv):
    mixed = mixed_environment_keys(build_graph(chain_inv))
    assert [(m.key, m.api_environment, m.consumer_environments) for m in mixed] == [
        ("k4", "staging", ("prod", "staging"))
    ]


def test_orphan_keys(chain_inv):
    assert orphan_keys(build_graph(chain_inv)) == ("k5",)


def test_busy_services():
    inv = make_inventory(
        apis=[("x", ["public"], "prod", None)],
        services=[("busy", "prod", "internal"), ("calm", "prod", "internal")],
        keys=[(f"k{i}", "x") for i in range(4)],
        uses=[("busy", f"k{i}") for i in range(4)] + [("calm", "k0")],
    )
    busy = busy_services(build_graph(inv), threshold=3)
    assert [(b.service, b.keys) for b in busy] == [("busy", ("k0", "k1", "k2", "k3"))]
    assert busy_services(build_graph(inv), threshold=5) == ()


def test_analyse_gathers_everything_and_is_json_ready(chain_inv):
    report = analyse(build_graph(chain_inv), top=2)
    assert report.counts == {"api": 4, "service": 5, "key": 5, "edges": 13}
    assert [b.key for b in report.blast_radii] == ["k3", "k4"]  # size 3 each, ties by id
    assert report.orphan_keys == ("k5",)
    d = json.loads(json.dumps(report.to_dict()))
    assert d["blast_radii"][0]["size"] == 3
    assert d["shared_keys"][0]["key"] == "k4"
    codes = sorted(f.code for f in report.findings())
    assert codes == ["key-orphan", "key-shared", "key-spans-environments"]


def test_dangling_references_raise_located_inventory_error(chain_inv):
    loc = Location("inv.yaml", 40, 5)
    bad = Inventory(
        apis=chain_inv.apis,
        services=chain_inv.services,
        keys=chain_inv.keys,
        integrations=(*chain_inv.integrations, Integration("ghost", "k1", location=loc)),
    )
    with pytest.raises(InventoryError) as exc:
        build_graph(bad)
    assert exc.value.lines() == [
        "inv.yaml:40:5: integration: unknown consumer 'ghost'; declare it under services"
    ]


@pytest.mark.parametrize("seed", range(6))
def test_strongly_connected_matches_networkx_and_is_reverse_topological(seed):
    from workbench.graph.algorithms import strongly_connected

    rnd = random.Random(seed)
    n = 60
    adj = [sorted({rnd.randrange(n) for _ in range(rnd.choice((0, 0, 1, 2, 3)))}) for _ in
           range(n)]  # fmt: skip
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((u, v) for u, vs in enumerate(adj) for v in vs)
    ours = strongly_connected(adj)
    assert sorted(map(tuple, ours)) == sorted(tuple(sorted(c)) for c in
                                              nx.strongly_connected_components(g))  # fmt: skip
    position = {v: i for i, comp in enumerate(ours) for v in comp}
    for u, vs in enumerate(adj):
        for v in vs:
            assert position[v] <= position[u]  # what u reaches comes first


def test_one_big_cycle_and_a_long_chain():
    n = 400
    # ring: s{i} calls the API served by s{i+1}; chain: c{i} calls the API served by c{i+1}
    apis = [(f"ra{i}", ["pii"], "prod", f"s{(i + 1) % n}") for i in range(n)]
    apis += [(f"ca{i}", ["pii"], "prod", f"c{i + 1}") for i in range(n - 1)]
    services = [(f"s{i}", "prod", "internal") for i in range(n)]
    services += [(f"c{i}", "prod", "internal") for i in range(n)]
    keys = [(f"rk{i}", f"ra{i}") for i in range(n)] + [(f"ck{i}", f"ca{i}") for i in range(n - 1)]
    uses = [(f"s{i}", f"rk{i}") for i in range(n)] + [(f"c{i}", f"ck{i}") for i in range(n - 1)]
    graph = build_graph(make_inventory(apis, services, keys, uses))
    sizes = graph.blast_sizes()
    assert {sizes[f"rk{i}"] for i in range(n)} == {n}
    # ck{i} breaks c{i}, which every c{j < i} reaches
    assert [sizes[f"ck{i}"] for i in (0, 1, n - 2)] == [1, 2, n - 1]
    assert graph.service_cycles() == (tuple(sorted(f"s{i}" for i in range(n))),)
    assert graph.blast_radius(f"ck{n - 2}").services == tuple(sorted(f"c{i}" for i in range(n - 1)))
