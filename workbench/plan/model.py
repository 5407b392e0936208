"""Plan value objects: Reason, Step, Wave, Plan (frozen, JSON-ready through ``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

__all__ = ["Plan", "Reason", "Step", "Wave"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One factor of a step's score. A step's contributions sum to its score."""

    factor: str
    """Factor name from the policy (data, exposure, blast_radius, age, environment, third_party)."""
    contribution: float
    """Points this factor adds (0 .. the factor's weight), rounded to 2 decimals."""
    detail: str
    """Why, in words a person can check against the inventory."""

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "contribution": self.contribution, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Step:
    """Migrate one key: move its consumers to certificates, then revoke it at its API."""

    rank: int
    """1-based position in the whole plan."""
    key: str
    """The key id (the unit of migration)."""
    api: str
    """The API that accepts the key (and where it is revoked)."""
    owner: str
    """Team owning that API."""
    environment: str
    """The API's environment."""
    environments: tuple[str, ...]
    """Distinct environments of the API and the consumers, sorted."""
    consumers: tuple[str, ...]
    """Services to move to certificates, in declaration order."""
    score: float
    """Risk score: the sum of the reasons' contributions (higher moves sooner)."""
    reasons: tuple[Reason, ...]
    """Score decomposition, largest contribution first."""
    blast_radius: int
    """Services affected if the cut-over goes wrong."""
    data_classes: tuple[str, ...]
    """Data classes of the API."""
    action: str
    """``migrate``, or ``revoke-only`` for a key nobody uses."""
    flags: tuple[str, ...] = ()
    """Notable facts: orphan, shared, mixed-environments, third-party, pilot."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "key": self.key,
            "api": self.api,
            "owner": self.owner,
            "environment": self.environment,
            "environments": list(self.environments),
            "consumers": list(self.consumers),
            "score": self.score,
            "reasons": [r.to_dict() for r in self.reasons],
            "blast_radius": self.blast_radius,
            "data_classes": list(self.data_classes),
            "action": self.action,
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class Wave:
    """Steps carried out together."""

    number: int
    """1-based."""
    steps: tuple[Step, ...]
    """In order."""
    pilot: bool = False
    """A rehearsal wave of low-risk steps (pilot-first strategy)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "pilot": self.pilot,
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(frozen=True)
class Plan:
    """A ranked migration plan in waves."""

    waves: tuple[Wave, ...]
    """In order."""
    strategy: str
    """``risk-first`` or ``pilot-first``."""
    policy_name: str
    """The scoring policy used."""
    generated_for: date
    """The day ages were measured against."""
    wave_size: int = 5
    """Most steps per wave."""
    source: str | None = None
    """The inventory file, when known."""

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """Every step in plan order."""
        return tuple(s for w in self.waves for s in w.steps)

    @cached_property
    def _by_key(self) -> dict[str, tuple[Step, int]]:
        return {s.key: (s, w.number) for w in self.waves for s in w.steps}

    def step(self, key_id: str) -> Step:
        """The step for ``key_id`` (KeyError if the key is not in the plan)."""
        return self._by_key[key_id][0]

    def wave_of(self, key_id: str) -> int:
        """Wave number of ``key_id``'s step."""
        return self._by_key[key_id][1]

    def wave(self, number: int) -> Wave:
        """Wave ``number`` (1-based; KeyError if there is none)."""
        if not 1 <= number <= len(self.waves):
            raise KeyError(number)
        return self.waves[number - 1]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "strategy": self.strategy,
            "policy": self.policy_name,
            "generated_for": self.generated_for.isoformat(),
            "wave_size": self.wave_size,
            "source": self.source,
            "steps": len(self.steps),
            "waves": [w.to_dict() for w in self.waves],
        }
