"""Time to the TUI's plan table against ``workbench plan`` on the same inventory.

For each size, a synthetic inventory (``plan_scale.generate``: keys shared by 1-20
consumers, about 3.5 consumers per key) is written once; then, each in a fresh process
and in alternating order (``--repeat`` rounds, best kept):

- the baseline: ``workbench plan FILE`` with its output read and discarded, start to exit;
- the TUI: ``workbench tui FILE``'s app (the same source and app the command builds), run
  headless at 160x45, from process start to (a) the first frame and (b) the frame that
  shows the plan table filled.

It prints both, the ratio table / plan (goal: <= 1.5 at 100k) and the first frame (goal:
< 1 s; its CPU seconds too, which do not move with the load of a shared machine). Wall
times move with whatever else runs: compare figures of one run.

    .venv/bin/python bench/tui_scale.py                  # 100k integrations
    .venv/bin/python bench/tui_scale.py --sizes 10000,100000 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_scale import generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

_PLAN = "import sys; from workbench.cli import main; sys.exit(main(sys.argv[1:]))"
"""``workbench plan`` as the console script runs it."""

_TUI = r"""
import asyncio, json, sys, time
started = float(sys.argv[2])
import argparse
from workbench.cli import build_parser
from workbench.cli.tui_cmd import make_source
from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.steps import StepsTable

async def main():
    args = build_parser().parse_args(["tui", sys.argv[1]])
    app = WorkbenchApp(make_source(args))
    app.animation_level = "none"
    out = {}
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        out["first_frame"] = time.time() - started
        out["first_frame_cpu"] = time.process_time()  # this process's CPU: load-independent
        table = app.query_one(StepsTable)
        deadline = time.monotonic() + 600
        while table.row_count == 0 and app.load_error is None:
            if time.monotonic() > deadline:
                raise SystemExit("the plan table did not fill within 600 s")
            await pilot.pause(0.02)
        await pilot.pause()  # the frame with the rows
        out["table"] = time.time() - started
        out["rows"] = table.row_count
        await app.workers.wait_for_complete()
        out["complete"] = time.time() - started
    print(json.dumps(out))

asyncio.run(main())
"""


def run_plan(path: Path) -> float:
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", _PLAN, "plan", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    elapsed = time.time() - started
    if proc.returncode != 0:
        raise SystemExit(f"workbench plan failed:\n{proc.stderr}")
    return elapsed


def run_tui(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _TUI, str(path), repr(time.time())],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the TUI run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated integration counts")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per size (best kept)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    with tempfile.TemporaryDirectory(prefix="tui-scale-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"inventory-{n}.yaml"
            shape = generate(n, path)
            plans, tuis = [], []
            for i in range(max(1, args.repeat)):
                # Alternate the order so a burst of load elsewhere hits both sides alike.
                if i % 2:
                    tuis.append(run_tui(path))
                    plans.append(run_plan(path))
                else:
                    plans.append(run_plan(path))
                    tuis.append(run_tui(path))
            plan = min(plans)
            tui = min(tuis, key=lambda r: r["table"])
            print(
                f"{n:>7} integrations ({shape['keys']:,} keys = plan steps, "
                f"{path.stat().st_size / 2**20:.1f} MiB)\n"
                f"        workbench plan:            {plan:6.2f} s (start to exit)\n"
                f"        workbench tui, first frame: {tui['first_frame']:6.2f} s "
                f"({tui['first_frame_cpu']:.2f} s CPU: imports, compose, first paint)\n"
                f"        workbench tui, plan table:  {tui['table']:6.2f} s "
                f"({tui['rows']:,} rows) = {tui['table'] / plan:.2f}x workbench plan\n"
                f"        workbench tui, all loaded:  {tui['complete']:6.2f} s "
                "(findings and blast radii, after the table)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
