"""Synthetic inventories for the loader benchmark and the performance test.

Run as a script to write a file and compare ``load_inventory`` with a bare
``yaml.load(f, Loader=yaml.CSafeLoader)``::

    .venv/bin/python tests/inventory/inventory_synth.py 100000 /tmp/big.yaml
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ENVS = ("prod", "staging", "dev")
CLASSES = ("pci", "pii", "phi", "internal", "public", "confidential")
EXPOSURE = ("internal", "internal", "internal", "partner", "internet")


def synth_inventory_yaml(n_integrations: int) -> str:
    """A valid inventory with ``n_integrations`` integrations (~170 bytes each in total)."""
    n_apis = max(2, n_integrations // 50)
    n_services = max(2, n_integrations // 5)
    n_keys = max(2, n_integrations // 5)
    out = ["version: 1", "trust_domain: acme.test", "apis:"]
    for i in range(n_apis):
        env = ENVS[i % 3]
        out.append(
            f"  - id: api-{i}\n"
            f"    url: https://127.0.0.1:8443/api-{i}\n"
            f"    health_path: /health\n"
            f"    data_classes: [{CLASSES[i % 6]}, {CLASSES[(i + 1) % 6]}]\n"
            f"    owner: team-{i % 40}\n"
            f"    environment: {env}"
        )
    out.append("services:")
    for i in range(n_services):
        out.append(
            f"  - id: svc-{i}\n"
            f"    owner: team-{i % 40}\n"
            f"    environment: {ENVS[i % 3]}\n"
            f"    exposure: {EXPOSURE[i % 5]}\n"
            f"    tags: [tier-{i % 4}, synthetic]"
        )
    out.append("keys:")
    for i in range(n_keys):
        out.append(
            f"  - id: key-{i}\n"
            f"    api: api-{i % n_apis}\n"
            f"    header: X-API-Key\n"
            f"    secret_ref: env:KEY_{i}\n"
            f"    created: 2021-03-{1 + i % 28:02d}\n"
            f"    last_rotated: 2023-01-{1 + i % 28:02d}\n"
            f"    found_in: [repo:svc-{i}/config/prod.env, ci:svc-{i}/KEY]\n"
            f"    notes: synthetic key number {i} for the loader benchmark"
        )
    out.append("integrations:")
    for i in range(n_integrations):
        out.append(
            f"  - {{consumer: svc-{(i // n_keys + (i % n_keys) * 7) % n_services}, "
            f"key: key-{i % n_keys}, "
            f"calls_per_day: {i % 1000}}}"
        )
    return "\n".join(out) + "\n"


def compare(path: Path) -> tuple[float, float]:
    """Seconds for (bare CSafeLoader load, load_inventory) of ``path``."""
    import yaml

    from workbench.inventory import load_inventory

    t0 = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        yaml.load(f, Loader=yaml.CSafeLoader)  # noqa: S506 - the baseline being measured
    t1 = time.perf_counter()
    load_inventory(path)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    target = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/inventory-bench.yaml")
    target.write_text(synth_inventory_yaml(n), encoding="utf-8")
    size = target.stat().st_size
    bare, ours = compare(target)
    print(
        f"{n} integrations, {size / 1e6:.1f} MB: CSafeLoader {bare:.2f}s, "
        f"load_inventory {ours:.2f}s, ratio {ours / bare:.2f}"
    )
