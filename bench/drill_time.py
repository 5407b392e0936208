"""How fast does a revocation take effect? Time-to-refusal per gateway kind, against the
bare reload time of the same gateway measured in the same run.

For each gateway kind (the Python reference gateway, and real nginx when installed), in a
fresh workspace with the lab running and step pay-key-prod in dual:

1. the bare reload: the gateway's CRL push (render + validate + write + reload, waiting until
   the running gateway serves it) with nothing revoked, N times;
2. the canary drill, N times: issue, authorise, revoke, publish, push, and probe (a fresh TLS
   connection each) until refused 3 times in a row; its time-to-refusal is from the start of
   the revocation to the first refusal of that final run.

Prints the medians and the ratio time-to-refusal / bare reload: the overhead of the whole
revocation (the workspace transaction, CRL signing, the push) and of proving it.
Usage: .venv/bin/python bench/drill_time.py [--runs 5] [--kinds python,nginx]
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

PASSPHRASE = "bench-passphrase-not-secret"


def _quiet(argv: list[str]) -> None:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        code = cli(argv)
    if code != 0:
        raise SystemExit(f"workbench {' '.join(argv)} exited {code}")


def bench_kind(kind: str, runs: int) -> dict:
    from workbench.drill.canary import canary_drill
    from workbench.drill.gateways import gateways_for, push_crls
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
            [ref] = gateways_for(campaign, ["payments-api"])
            reloads = []
            for _ in range(runs):
                t = time.perf_counter()
                push_crls(campaign, ref)
                reloads.append(time.perf_counter() - t)
            refusals, firsts, pushes, totals, revokes = [], [], [], [], []
            for _ in range(runs):
                t = time.perf_counter()
                report = canary_drill(campaign, apis=["payments-api"], deadline=30)
                totals.append(time.perf_counter() - t)
                if report.verdict != "PASS":
                    raise SystemExit(f"{kind}: canary drill {report.verdict}: {report.reasons}")
                [entry] = report.entry_points
                refusals.append(entry["stable_s"])
                firsts.append(entry["first_refusal_s"])
                pushes.append(report.gateways[0]["push_s"])
                revokes.append(report.revoke_s)
    finally:
        _quiet(["sample-env", "down", *w])
        shutil.rmtree(tmp, ignore_errors=True)
    med = statistics.median
    return {
        "kind": kind,
        "reload_s": med(reloads),
        "push_in_drill_s": med(pushes),
        "revoke_s": med(revokes),
        "first_refusal_s": med(firsts),
        "stable_refusal_s": med(refusals),
        "worst_refusal_s": max(refusals),
        "drill_total_s": med(totals),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    default = (
        "python,nginx" if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx") else "python"
    )
    ap.add_argument("--kinds", default=default)
    args = ap.parse_args()
    os.environ["WORKBENCH_CA_PASSPHRASE"] = PASSPHRASE
    rows = [bench_kind(k, args.runs) for k in args.kinds.split(",")]
    print(f"time to refusal vs bare reload, medians of {args.runs} runs (seconds)")
    head = ("gateway", "reload", "revoke", "push", "first", "stable", "worst", "ratio", "after")
    print("{:8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}".format(*head))
    for r in rows:
        ratio = r["stable_refusal_s"] / r["reload_s"] if r["reload_s"] else float("nan")
        after = r["stable_refusal_s"] - r["revoke_s"]
        print(
            f"{r['kind']:8} {r['reload_s']:7.3f} {r['revoke_s']:7.3f} {r['push_in_drill_s']:7.3f} "
            f"{r['first_refusal_s']:7.3f} {r['stable_refusal_s']:7.3f} "
            f"{r['worst_refusal_s']:7.3f} {ratio:6.1f}x {after:7.3f}"
        )
    print("reload: a bare CRL push (write + validate + reload, confirmed); revoke: revoking and")
    print("signing the CRLs (unlocks the CA key: a bcrypt KDF); push: the push in the drill;")
    print("first/stable/worst: from the start of the revocation to the first refusal / to")
    print("refusals that stayed (3 in a row, fresh TLS each); ratio: stable / reload;")
    print("after: stable minus revoke (publication to refusal).")


if __name__ == "__main__":
    main()
