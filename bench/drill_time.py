"""How fast does a revocation take effect? Time-to-refusal per gateway kind, against the
bare reload time of the same gateway measured in the same run.

Gateway kinds: the lab's Python reference gateway and nginx (``lab/python``, ``lab/nginx``:
canary drills on payments-api), and an operator's own nginx and HAProxy (``op/nginx``,
``op/haproxy``: the gateway tests' operator set-up, its main config including the
workbench's file and reloading through the inventory's argv; revoke drills on a service
re-issued before each run), and canary drills on that operator nginx and HAProxy
(``op-canary/nginx``, ``op-canary/haproxy``: the owned config authorises the canary and drops
it again, two more confirmed reloads per drill, outside the time to refusal). For each, in a
fresh workspace:

1. the bare reload: the gateway's CRL push (render + write + validate + reload, confirmed
   served) with nothing revoked, N times;
2. N drills: revoke, publish, push, and probe (a fresh TLS connection each) until refused 3
   times in a row; time-to-refusal runs from the start of the revocation to the first
   refusal of that final run.

Prints medians and the ratio time-to-refusal / bare reload.
Usage: .venv/bin/python bench/drill_time.py [--runs 5] [--kinds lab/python,op-canary/haproxy]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from testkit import copy_inventory, free_port  # noqa: E402  (the tests' helpers)

from workbench.cli import main as cli  # noqa: E402
from workbench.states import Verdict  # noqa: E402

PASSPHRASE = "bench-passphrase-not-secret"


def _quiet(argv: list[str]) -> None:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        code = cli(argv)
    if code != 0:
        raise SystemExit(f"workbench {' '.join(argv)} exited {code}")


def _figures(kind: str, reloads, reports, totals) -> dict:
    for report in reports:
        if report.verdict != Verdict.PASS:
            raise SystemExit(f"{kind}: drill {report.verdict}: {report.reasons}")
    entries = [r.entry_points[0] for r in reports]
    refusals = [e["stable_s"] for e in entries]
    med = statistics.median
    return {
        "kind": kind,
        "reload_s": med(reloads),
        "push_in_drill_s": med([r.gateways[0]["push_s"] for r in reports]),
        "revoke_s": med([r.revoke_s for r in reports]),
        "first_refusal_s": med([e["first_refusal_s"] for e in entries]),
        "stable_refusal_s": med(refusals),
        "worst_refusal_s": max(refusals),
        "drill_total_s": med(totals),
    }


def _reloads(campaign, api: str, runs: int) -> list[float]:
    from workbench.drill.gateways import gateways_for, push_crls

    [ref] = gateways_for(campaign, [api])
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        push_crls(campaign, ref)
        out.append(time.perf_counter() - t)
    return out


def bench_lab(kind: str, runs: int) -> dict:
    """The lab's gateway (python or nginx): canary drills on payments-api."""
    from workbench.drill.canary import canary_drill
    from workbench.migration import open_campaign

    tmp = Path(tempfile.mkdtemp(prefix=f"drill-bench-{kind}-"))
    ws = tmp / "ws"
    w = ["--workspace", str(ws)]
    inv = copy_inventory(tmp, free_port())
    _quiet(["init", str(inv), *w])
    _quiet(["sample-env", "up", "--gateway", kind, *w])
    try:
        _quiet(["issue", "--step", "pay-key-prod", *w])
        _quiet(["gateway", "set-mode", "dual", "--step", "pay-key-prod", *w])
        with open_campaign(ws) as campaign:
            reloads = _reloads(campaign, "payments-api", runs)
            reports, totals = [], []
            for _ in range(runs):
                t = time.perf_counter()
                reports.append(canary_drill(campaign, apis=["payments-api"], deadline=30))
                totals.append(time.perf_counter() - t)
    finally:
        _quiet(["sample-env", "down", *w])
        shutil.rmtree(tmp, ignore_errors=True)
    return _figures(f"lab/{kind}", reloads, reports, totals)


def bench_operator(kind: str, runs: int, canary: bool = False) -> dict:
    """An operator's own nginx or HAProxy (tests/gateway/operator_support.py): revoke drills
    on service shop (re-issued before each run), or canary drills on orders-api."""
    sys.path.insert(0, str(ROOT / "tests" / "gateway"))
    from operator_support import (
        BILLING_KEY,
        Backend,
        OperatorHAProxy,
        OperatorNginx,
        operator_inventory,
    )

    from workbench.drill.canary import canary_drill
    from workbench.drill.revoke import revoke_drill
    from workbench.migration import open_campaign

    tmp = Path(tempfile.mkdtemp(prefix=f"drill-bench-op-{kind}-"))
    os.environ["WBT_BILLING_KEY"] = BILLING_KEY
    (tmp / "keys").mkdir(mode=0o700)
    key_file = tmp / "keys" / "orders.key"
    key_file.write_text("ordersBENCHkey-0123456789abcdefABCDEF\n")
    key_file.chmod(0o600)
    op = (OperatorNginx if kind == "nginx" else OperatorHAProxy)(tmp)
    orders, billing = Backend(), Backend(required_key=BILLING_KEY)
    inv = tmp / "inventory.yaml"
    inv.write_text(
        operator_inventory(
            op, port=free_port(), orders_backend=orders.url, billing_backend=billing.url
        )
    )
    ws = tmp / "ws"
    w = ["--workspace", str(ws)]
    try:
        _quiet(["init", str(inv), *w])
        _quiet(["gateway", "sync", *w])
        _quiet(["issue", "--step", "orders-key", *w])
        _quiet(["gateway", "set-mode", "dual", "--step", "orders-key", *w])
        reports, totals = [], []
        with open_campaign(ws) as campaign:
            reloads = _reloads(campaign, "orders-api", runs)
        for _ in range(runs):
            if not canary:
                _quiet(["issue", "--step", "orders-key", *w])  # a new certificate to revoke
            with open_campaign(ws) as campaign:
                t = time.perf_counter()
                if canary:
                    reports.append(canary_drill(campaign, apis=["orders-api"], deadline=30))
                else:
                    reports.append(revoke_drill(campaign, "shop", deadline=30))
                totals.append(time.perf_counter() - t)
    finally:
        op.stop()
        orders.close()
        billing.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return _figures(f"op{'-canary' if canary else ''}/{kind}", reloads, reports, totals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    kinds = ["lab/python"]
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        kinds += ["lab/nginx", "op/nginx", "op-canary/nginx"]
    if shutil.which("haproxy") or os.path.exists("/usr/sbin/haproxy"):
        kinds += ["op/haproxy", "op-canary/haproxy"]
    ap.add_argument("--kinds", default=",".join(kinds), help="default: %(default)s")
    args = ap.parse_args()
    os.environ["WORKBENCH_CA_PASSPHRASE"] = PASSPHRASE
    rows = []
    for k in args.kinds.split(","):
        where, _, software = k.partition("/")
        if where == "lab":
            rows.append(bench_lab(software, args.runs))
        else:
            rows.append(bench_operator(software, args.runs, canary=where == "op-canary"))
    print(f"time to refusal vs bare reload, medians of {args.runs} runs (seconds)")
    head = ("gateway", "reload", "revoke", "push", "first", "stable", "worst", "ratio", "after")
    print("{:17} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}".format(*head, "total"))
    for r in rows:
        ratio = r["stable_refusal_s"] / r["reload_s"] if r["reload_s"] else float("nan")
        after = r["stable_refusal_s"] - r["revoke_s"]
        print(
            f"{r['kind']:17} {r['reload_s']:7.3f} {r['revoke_s']:7.3f} {r['push_in_drill_s']:7.3f} "
            f"{r['first_refusal_s']:7.3f} {r['stable_refusal_s']:7.3f} "
            f"{r['worst_refusal_s']:7.3f} {ratio:6.1f}x {after:7.3f} {r['drill_total_s']:7.3f}"
        )
    print("reload: a bare CRL push (write + validate + reload, confirmed); revoke: revoking and")
    print("signing the CRLs (unlocks the CA key: a bcrypt KDF); push: the push in the drill;")
    print("first/stable/worst: from the start of the revocation to the first refusal / to")
    print("refusals that stayed (3 in a row, fresh TLS each); ratio: stable / reload;")
    print("after: stable minus revoke (publication to refusal); total: the whole drill (a")
    print("canary's includes authorising and de-authorising it).")


if __name__ == "__main__":
    main()
