"""Score one key under a policy, as named factor contributions that sum to the score."""

from __future__ import annotations

import math
from datetime import date

from workbench.inventory.model import Inventory, Key
from workbench.plan.model import Reason
from workbench.policy import FACTORS, Policy

__all__ = ["KeyScorer", "key_age_days", "score_key"]

_ORDER = {f: i for i, f in enumerate(FACTORS)}


def key_age_days(key: Key, today: date) -> int | None:
    """Days since the key was last rotated, or created if never rotated (None if unknown)."""
    since = key.last_rotated or key.created
    return None if since is None else max(0, (today - since).days)


def _reason_key(r: Reason) -> tuple[float, int]:
    return (-r.contribution, _ORDER.get(r.factor, 99))


class KeyScorer:
    """Scores keys of one inventory under one policy, caching per-API and per-service parts
    (at 100k integrations this halves the cost of a plan)."""

    def __init__(self, inv: Inventory, policy: Policy, today: date) -> None:
        self.inv = inv
        self.policy = policy
        self.today = today
        self._api_cache: dict[str, tuple[Reason, ...]] = {}
        self._w = {f: policy.weight(f) for f in FACTORS}

    def _reason(self, factor: str, fraction: float, detail: str) -> Reason | None:
        w = self._w.get(factor, 0.0)
        if not w:
            return None
        return Reason(factor, round(w * min(1.0, max(0.0, fraction)), 2), detail)

    def _api_reasons(self, api_id: str) -> tuple[Reason, ...]:
        cached = self._api_cache.get(api_id)
        if cached is not None:
            return cached
        policy = self.policy
        api = self.inv.api(api_id)
        out = []
        if api.data_classes:
            values = {c: policy.data_classes.get(c, policy.unclassified) for c in api.data_classes}
            worst = max(api.data_classes, key=lambda c: (values[c], c))
            known = "" if worst in policy.data_classes else ", not in the policy"
            out.append(
                self._reason("data", values[worst], f"{api.id} carries {worst} "
                             f"({values[worst]:g}{known})")
            )  # fmt: skip
        else:
            out.append(self._reason("data", policy.unclassified, f"{api.id} lists no data class"))
        env = policy.environments.get(api.environment, policy.other_environment)
        out.append(
            self._reason("environment", env, f"{api.id} runs in {api.environment} ({env:g})")
        )
        result = tuple(r for r in out if r is not None)
        self._api_cache[api_id] = result
        return result

    def score(self, key: Key, blast_radius: int) -> tuple[float, tuple[Reason, ...]]:
        """(score, reasons) for ``key``; reasons largest first, contributions sum to the score."""
        inv, policy = self.inv, self.policy
        services = inv.services_by_id
        consumers = [services[c] for c in inv.consumers_of(key.id)]
        reasons: list[Reason | None] = list(self._api_reasons(key.api))

        if consumers:
            exposures = policy.exposures
            worst_c = max(consumers, key=lambda s: (exposures.get(s.exposure, 1.0), s.id))
            v = exposures.get(worst_c.exposure, 1.0)
            reasons.append(
                self._reason("exposure", v, f"{worst_c.id} is {worst_c.exposure}-facing ({v:g})")
            )
        else:
            reasons.append(self._reason("exposure", 0.0, "no consumers (revoke only)"))

        # Blast radius grows with log(1 + services): the 2nd affected service matters more
        # than the 50th. Full at the policy's cap.
        cap = max(1, policy.blast_cap)
        plural = "s" if blast_radius != 1 else ""
        reasons.append(
            self._reason(
                "blast_radius",
                math.log1p(blast_radius) / math.log1p(cap),
                f"{blast_radius} service{plural} break if the cut-over fails",
            )
        )

        age = key_age_days(key, self.today)
        if age is None:
            reasons.append(self._reason("age", 1.0, "age unknown (no created or last_rotated)"))
        else:
            what = "rotated" if key.last_rotated else "created"
            reasons.append(
                self._reason("age", age / max(1, policy.age_cap_days), f"{what} {age} days ago")
            )

        third = sorted(s.id for s in consumers if s.third_party)
        reasons.append(
            self._reason(
                "third_party",
                1.0 if third else 0.0,
                f"third-party consumer: {', '.join(third)}" if third else "no third-party consumer",
            )
        )
        kept = sorted((r for r in reasons if r is not None), key=_reason_key)
        return round(sum(r.contribution for r in kept), 2), tuple(kept)


def score_key(
    inv: Inventory, key: Key, *, policy: Policy, blast_radius: int, today: date
) -> tuple[float, tuple[Reason, ...]]:
    """(score, reasons) for one key; reasons largest first, contributions sum to the score.

    Factors: data (worst class of the key's API), exposure (worst consumer), blast_radius
    (services affected), age (since last rotation or creation; unknown counts as full),
    environment (of the API), third_party (any consumer run by a partner or vendor).
    """
    return KeyScorer(inv, policy, today).score(key, blast_radius)
