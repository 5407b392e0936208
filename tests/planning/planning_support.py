"""Hand-built inventories for the planning tests."""

from __future__ import annotations

from datetime import date

import pytest

from workbench.inventory.model import Api, Integration, Inventory, Key, Service


def make_inventory(
    apis: list[tuple] = (),
    services: list[tuple] = (),
    keys: list[tuple] = (),
    uses: list[tuple[str, str]] = (),
) -> Inventory:
    """Compact builder.

    apis: (id, data_classes, environment, provided_by)
    services: (id, environment, exposure[, third_party])
    keys: (id, api[, created[, last_rotated]])
    uses: (consumer, key)
    """
    return Inventory(
        apis=tuple(
            Api(
                id=a[0],
                url=f"https://127.0.0.1:8443/{a[0]}",
                data_classes=tuple(a[1]),
                owner=f"team-{a[0]}",
                environment=a[2],
                provided_by=a[3],
            )
            for a in apis
        ),
        services=tuple(
            Service(
                id=s[0],
                owner=f"team-{s[0]}",
                environment=s[1],
                exposure=s[2],
                third_party=bool(s[3]) if len(s) > 3 else False,
            )
            for s in services
        ),
        keys=tuple(
            Key(
                id=k[0],
                api=k[1],
                created=k[2] if len(k) > 2 else date(2024, 1, 1),
                last_rotated=k[3] if len(k) > 3 else None,
            )
            for k in keys
        ),
        integrations=tuple(Integration(consumer=c, key=k) for c, k in uses),
    )


@pytest.fixture
def chain_inv() -> Inventory:
    """top -> k1 -> api1 (served by mid); mid -> k2 -> api2 (served by bottom);
    bottom -> k3 -> api3 (no provider). Plus a shared key and an orphan."""
    return make_inventory(
        apis=[
            ("api1", ["pii"], "prod", "mid"),
            ("api2", ["internal"], "prod", "bottom"),
            ("api3", ["pci"], "prod", None),
            ("api4", ["public"], "staging", None),
        ],
        services=[
            ("top", "prod", "internet"),
            ("mid", "prod", "internal"),
            ("bottom", "prod", "internal"),
            ("vendor", "prod", "partner", True),
            ("qa", "staging", "internal"),
        ],
        keys=[("k1", "api1"), ("k2", "api2"), ("k3", "api3"), ("k4", "api4"), ("k5", "api3")],
        uses=[
            ("top", "k1"),
            ("mid", "k2"),
            ("bottom", "k3"),
            ("qa", "k4"),
            ("vendor", "k4"),
            ("top", "k4"),
            ("top", "k4"),  # a repeat is one consumer
        ],
    )


@pytest.fixture
def cycle_inv() -> Inventory:
    """a calls b's API, b calls a's API (a cycle); c calls its own API (a self-loop);
    front calls a's API."""
    return make_inventory(
        apis=[
            ("a-api", ["pci"], "prod", "a"),
            ("b-api", ["internal"], "prod", "b"),
            ("c-api", ["public"], "prod", "c"),
        ],
        services=[
            ("front", "prod", "internet"),
            ("a", "prod", "internal"),
            ("b", "prod", "internal"),
            ("c", "prod", "internal"),
        ],
        keys=[("ka", "a-api"), ("kb", "b-api"), ("kc", "c-api")],
        uses=[("front", "ka"), ("b", "ka"), ("a", "kb"), ("c", "kc")],
    )
