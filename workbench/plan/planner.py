"""Rank every key by risk and cut the ranking into waves.

Strategies:
- ``risk-first``: highest score first (ties by key id), ``wave_size`` steps per wave.
- ``pilot-first``: wave 1 rehearses on up to ``policy.pilot_max_keys`` of the lowest-risk keys
  whose consumers all have a pilot exposure (default: internal) and whose API carries no
  excluded data class (default: pci, phi), used from one environment only; the rest
  follows risk-first. When no key qualifies there is no pilot wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workbench.errors import InputError
from workbench.graph.algorithms import gc_paused
from workbench.graph.build import DependencyGraph, build_graph
from workbench.inventory.model import Inventory
from workbench.plan.model import Plan, Reason, Step, Wave
from workbench.plan.scoring import KeyScorer
from workbench.policy import Policy, load_policy

__all__ = ["STRATEGIES", "make_plan", "pilot_candidates", "score_steps"]

STRATEGIES = ("risk-first", "pilot-first")


@dataclass(frozen=True, slots=True)
class _Scored:
    """A key's step before it has a rank (internal)."""

    key: str
    score: float
    reasons: tuple[Reason, ...]
    blast_radius: int
    consumers: tuple[str, ...]
    flags: tuple[str, ...]
    environments: tuple[str, ...]


def score_steps(
    inv: Inventory, graph: DependencyGraph, policy: Policy, today: date
) -> list[_Scored]:
    """One scored entry per key, in key declaration order."""
    sizes = graph.blast_sizes()
    services = inv.services_by_id
    apis = inv.apis_by_id
    scorer = KeyScorer(inv, policy, today)
    out = []
    for key in inv.keys:
        api_env = apis[key.api].environment
        consumers = inv.consumers_of(key.id)
        score, reasons = scorer.score(key, sizes[key.id])
        envs = {services[c].environment for c in consumers}
        flags = []
        if not consumers:
            flags.append("orphan")
        if len(consumers) > 1:
            flags.append("shared")
        if envs and envs != {api_env}:
            flags.append("mixed-environments")
        if any(services[c].third_party for c in consumers):
            flags.append("third-party")
        envs.add(api_env)
        out.append(
            _Scored(
                key.id,
                score,
                reasons,
                sizes[key.id],
                consumers,
                tuple(flags),
                tuple(sorted(envs)),
            )
        )
    return out


def pilot_candidates(inv: Inventory, scored: list[_Scored], policy: Policy) -> list[_Scored]:
    """Entries fit for a rehearsal, lowest score first (ties by key id)."""
    allowed = set(policy.pilot_exposures)
    excluded = set(policy.pilot_excluded_data_classes)
    services = inv.services_by_id
    fit = [
        s
        for s in scored
        if s.consumers
        and "mixed-environments" not in s.flags
        and all(services[c].exposure in allowed for c in s.consumers)
        and not excluded.intersection(inv.api(inv.key(s.key).api).data_classes)
    ]
    return sorted(fit, key=lambda s: (s.score, s.key))


def _step(inv: Inventory, s: _Scored, rank: int, pilot: bool) -> Step:
    key = inv.key(s.key)
    api = inv.api(key.api)
    return Step(
        rank=rank,
        key=s.key,
        api=api.id,
        owner=api.owner,
        environment=api.environment,
        environments=s.environments,
        consumers=s.consumers,
        score=s.score,
        reasons=s.reasons,
        blast_radius=s.blast_radius,
        data_classes=api.data_classes,
        action="migrate" if s.consumers else "revoke-only",
        flags=(*s.flags, "pilot") if pilot else s.flags,
    )


def make_plan(
    inv: Inventory,
    *,
    policy: Policy | None = None,
    strategy: str = "risk-first",
    wave_size: int = 5,
    today: date | None = None,
    graph: DependencyGraph | None = None,
) -> Plan:
    """The migration plan for ``inv``: every key is one step, steps are grouped in waves."""
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if not isinstance(wave_size, int) or isinstance(wave_size, bool) or wave_size < 1:
        raise InputError(f"wave size must be a whole number >= 1, not {wave_size!r}")
    policy = policy or load_policy()
    today = today or date.today()
    graph = graph or build_graph(inv)

    with gc_paused():
        scored = score_steps(inv, graph, policy, today)
        pilot: list[_Scored] = []
        if strategy == "pilot-first":
            pilot = pilot_candidates(inv, scored, policy)[: min(policy.pilot_max_keys, wave_size)]
        chosen = {s.key for s in pilot}
        rest = sorted((s for s in scored if s.key not in chosen), key=lambda s: (-s.score, s.key))

        waves: list[Wave] = []
        if pilot:
            waves.append(
                Wave(1, tuple(_step(inv, s, r, True) for r, s in enumerate(pilot, 1)), pilot=True)
            )
        rank = len(pilot)
        for start in range(0, len(rest), wave_size):
            chunk = rest[start : start + wave_size]
            steps = tuple(_step(inv, s, rank + i, False) for i, s in enumerate(chunk, 1))
            rank += len(chunk)
            waves.append(Wave(len(waves) + 1, steps))
    return Plan(
        waves=tuple(waves),
        strategy=strategy,
        policy_name=policy.name,
        generated_for=today,
        wave_size=wave_size,
        source=inv.source,
    )
