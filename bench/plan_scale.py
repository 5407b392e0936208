"""How the planning pipeline scales: load+validate, graph, plan at 1k / 10k / 100k integrations.

Generates synthetic inventories as YAML in a temp dir (keys shared by 1-20 consumers with a
long tail, about 3.5 consumers per key; one API per two keys; one service per three
integrations; services in three tiers so most dependencies point one way, plus a few
back-edges that make cycles), then for each size runs, each in a fresh subprocess so peak
memory is clean:

- a bare ``yaml.load(f, Loader=yaml.CSafeLoader)`` of the file (the yardstick);
- the pipeline: ``load_inventory`` (the real loader, or a stand-in when it is not there yet),
  ``build_graph`` + blast radius of every key, ``make_plan``.

It prints wall and CPU seconds and peak RSS growth per stage, the pipeline / bare-parse
ratio and the growth per 10x. On a shared machine trust the CPU figures: wall time moves
with whatever else runs. Goal: 100k within 3x the bare parse, < 2 GiB, ~linear.

    .venv/bin/python bench/plan_scale.py                 # 1k, 10k, 100k
    .venv/bin/python bench/plan_scale.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

DATA_CLASSES = ["pci", "phi", "pii", "secret", "confidential", "internal", "public"]
_CONSUMER_WEIGHTS = [1 / c**1.5 for c in range(1, 21)]


def generate(n_integrations: int, path: Path, seed: int = 7) -> dict[str, int]:
    """Write a synthetic inventory with about ``n_integrations`` integrations to ``path``."""
    rnd = random.Random(seed)
    n_services = max(6, n_integrations // 3)
    n_keys = max(2, round(n_integrations / 3.5))
    n_apis = max(1, n_keys // 2)
    tiers = [0] * n_services  # 0 front (calls), 1 middle, 2 back (serves)
    for i in range(n_services):
        tiers[i] = 0 if i % 3 == 0 else (1 if i % 3 == 1 else 2)
    by_tier = {t: [i for i in range(n_services) if tiers[i] == t] for t in (0, 1, 2)}
    envs = rnd.choices(["prod", "staging", "dev"], weights=[85, 10, 5], k=n_services)
    out: list[str] = ["version: 1", "trust_domain: bench.test", "apis:"]
    api_tier = []
    api_env = []
    for a in range(n_apis):
        provided = rnd.random() < 0.7
        p = rnd.choice(by_tier[rnd.choice((1, 2))]) if provided else None
        api_tier.append(tiers[p] if p is not None else 3)
        env = envs[p] if p is not None else "prod"
        api_env.append(env)
        classes = ", ".join(sorted(set(rnd.choices(DATA_CLASSES, k=rnd.randint(1, 2)))))
        out.append(f"  - id: api-{a}")
        out.append(f"    url: https://127.0.0.1:8443/api-{a}")
        out.append(f"    data_classes: [{classes}]")
        out.append(f"    owner: team-{a % 97}")
        out.append(f"    environment: {env}")
        if p is not None:
            out.append(f"    provided_by: svc-{p}")
    out.append("services:")
    for s in range(n_services):
        exposure = (
            rnd.choice(["internet", "partner"]) if tiers[s] == 0 and rnd.random() < 0.5
            else "internal"
        )  # fmt: skip
        out.append(f"  - id: svc-{s}")
        out.append(f"    owner: team-{s % 97}")
        out.append(f"    environment: {envs[s]}")
        out.append(f"    exposure: {exposure}")
        if exposure == "partner" and rnd.random() < 0.5:
            out.append("    third_party: true")
    out.append("keys:")
    start = date(2018, 1, 1)
    key_api = []
    for k in range(n_keys):
        a = rnd.randrange(n_apis)
        key_api.append(a)
        created = start + timedelta(days=rnd.randrange(2500))
        out.append(f"  - id: key-{k}")
        out.append(f"    api: api-{a}")
        out.append(f"    secret_ref: env:KEY_{k}")
        out.append(f"    created: {created.isoformat()}")
        if rnd.random() < 0.4:
            out.append(
                f"    last_rotated: {(created + timedelta(days=rnd.randrange(400))).isoformat()}"
            )
    out.append("integrations:")
    written = 0
    for k in range(n_keys):
        if written >= n_integrations:
            break
        if rnd.random() < 0.02:
            continue  # an orphan key
        count = rnd.choices(range(1, 21), weights=_CONSUMER_WEIGHTS)[0]
        t = api_tier[key_api[k]]
        callers = [u for u in (0, 1, 2) if u < t] or [0]
        chosen: set[int] = set()
        for _ in range(count):
            if rnd.random() < 0.003:  # a back-edge: the odd cycle
                c = rnd.randrange(n_services)
            else:
                c = rnd.choice(by_tier[rnd.choice(callers)])
            if c not in chosen:
                chosen.add(c)
                out.append(f"  - {{consumer: svc-{c}, key: key-{k}}}")
                written += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return {"integrations": written, "keys": n_keys, "apis": n_apis, "services": n_services}


# ----- measured in a fresh subprocess --------------------------------------------------

_BARE = r"""
import json, resource, sys, time, yaml
path = sys.argv[1]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
with open(path, encoding="utf-8") as f:
    yaml.load(f, Loader=yaml.CSafeLoader)
secs, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
mib = (peak - base) / 1024
print(json.dumps({"bare_parse": secs, "bare_parse_cpu": cpu, "bare_peak_mib": mib}))
"""

_PIPELINE = r"""
import datetime, json, resource, sys, time
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
path = sys.argv[1]
import yaml
import workbench.inventory as wi
from workbench.graph import build_graph
from workbench.plan import make_plan
from workbench.policy import load_policy
policy = load_policy()
base = rss()
out = {}
def lap(name, t, c):
    out[name] = time.perf_counter() - t
    out[name + "_cpu"] = time.process_time() - c
    return time.perf_counter(), time.process_time()
t, c = time.perf_counter(), time.process_time()
loader = getattr(wi, "load_inventory", None)
if loader is not None:
    inv = loader(path)
    out["loader"] = "load_inventory"
else:
    from workbench.inventory.model import Api, Integration, Inventory, Key, Service
    with open(path, encoding="utf-8") as f:
        d = yaml.load(f, Loader=yaml.CSafeLoader)
    inv = Inventory(
        apis=tuple(Api(**{**a, "data_classes": tuple(a["data_classes"])}) for a in d["apis"]),
        services=tuple(Service(**s) for s in d["services"]),
        keys=tuple(Key(**k) for k in d["keys"]),
        integrations=tuple(Integration(**i) for i in d["integrations"]),
        source=path,
    )
    out["loader"] = "stand-in (CSafeLoader + dataclasses; load_inventory pending)"
t, c = lap("load", t, c)
out["load_peak_mib"] = rss() - base
g = build_graph(inv)
sizes = g.blast_sizes()
g.service_cycles()
t, c = lap("graph", t, c)
out["graph_peak_mib"] = rss() - base
out["max_blast"] = max(sizes.values())
out["cycles"] = len(g.service_cycles())
plan = make_plan(inv, policy=policy, graph=g, today=datetime.date(2026, 11, 22))
lap("plan", t, c)
out["plan_peak_mib"] = rss() - base
out["steps"] = len(plan.steps)
print(json.dumps(out))
"""


def _run(script: str, path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="comma-separated integration counts"
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    rows = []
    with tempfile.TemporaryDirectory(prefix="plan-scale-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"inventory-{n}.yaml"
            shape = generate(n, path)
            r = {"n": n, **shape, "mib": path.stat().st_size / 2**20}
            r.update(_run(_BARE, path))
            r.update(_run(_PIPELINE, path))
            for suffix in ("", "_cpu"):
                r["total" + suffix] = sum(r[s + suffix] for s in ("load", "graph", "plan"))
                r["ratio" + suffix] = r["total" + suffix] / r["bare_parse" + suffix]
            rows.append(r)
            print(
                f"{n:>7} integrations ({shape['keys']} keys, {shape['services']} services, "
                f"{shape['apis']} APIs, {r['mib']:.1f} MiB)\n"
                f"        wall: bare parse {r['bare_parse']:.2f}s | load {r['load']:.2f}s "
                f"graph {r['graph']:.2f}s plan {r['plan']:.2f}s = {r['total']:.2f}s "
                f"({r['ratio']:.2f}x bare)\n"
                f"        cpu:  bare parse {r['bare_parse_cpu']:.2f}s | load {r['load_cpu']:.2f}s "
                f"graph {r['graph_cpu']:.2f}s plan {r['plan_cpu']:.2f}s = {r['total_cpu']:.2f}s "
                f"({r['ratio_cpu']:.2f}x bare)\n"
                f"        peak RSS growth: +{r['plan_peak_mib']:.0f} MiB (after load "
                f"{r['load_peak_mib']:.0f}, after graph {r['graph_peak_mib']:.0f}; bare parse "
                f"{r['bare_peak_mib']:.0f}) | max blast {r['max_blast']}, cycles {r['cycles']}",
                flush=True,
            )
    print(f"loader: {rows[0]['loader'] if rows else '-'}")
    for a, b in zip(rows, rows[1:], strict=False):
        f = b["n"] / a["n"]
        gp = (b["graph_cpu"] + b["plan_cpu"]) / (a["graph_cpu"] + a["plan_cpu"])
        print(
            f"growth {a['n']} -> {b['n']} (x{f:g}, cpu): pipeline "
            f"x{b['total_cpu'] / a['total_cpu']:.1f}, graph+plan x{gp:.1f}, "
            f"bare parse x{b['bare_parse_cpu'] / a['bare_parse_cpu']:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
