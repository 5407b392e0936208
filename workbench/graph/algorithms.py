"""Small graph algorithms on int adjacency lists, and a GC pause for bulk builds."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused", "strongly_connected"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk build (re-enabled after, if it was on)."""
    # Building ~10^5 small containers triggers many collections that find nothing (the
    # objects all stay alive); pausing the collector cut graph+plan CPU time at 100k
    # integrations from ~3.2 s to ~2.6 s (~1.2x), more when a large parsed inventory is live.
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def strongly_connected(adj: list[list[int]]) -> list[list[int]]:
    """Strongly connected components of the graph ``adj`` (node -> successors), each sorted,
    in reverse topological order: a component comes after every component it reaches.

    Iterative Tarjan over int lists. networkx's condensation + topological sort gives the
    same answer but first needs two DiGraphs built: ~0.8 s of ~1.3 s at 100k integrations,
    against ~0.15 s here. Tested against networkx on random graphs.
    """
    n = len(adj)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            v, i = work[-1]
            succ = adj[v]
            if i < len(succ):
                work[-1] = (v, i + 1)
                w = succ[i]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    group.append(w)
                    if w == v:
                        break
                group.sort()
                out.append(group)
    return out
