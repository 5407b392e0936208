"""How ``workbench import`` scales with the size of a scanner report (issue 11, point 8).

Writes gitleaks reports (JSON arrays) of 10k and 100k findings in three shapes:

- ``one-secret``: one secret found in N different files (found_in unioned into one key);
- ``many-rules``: one secret under N different rule ids (N distinct tags on one key);
- ``distinct``: N different secrets (N keys).

For each report it times, in the same run, a bare ``json.load`` of the file (the yardstick)
and the real command ``workbench import gitleaks REPORT -o OUT`` in-process (parse with
locations, hash each secret, union places and tags, validate, dump YAML, reload the output
to prove it loads). It prints wall and CPU seconds, the import / json.load ratio and the
growth of the import time per 10x findings. Goal: growth per 10x <= 12 (linear with some
slack); the quadratic version grew ~20x per 10x (40k places: 29.6 s against 1.5 s for 4k).

    .venv/bin/python bench/import_scale.py                    # 10k and 100k
    .venv/bin/python bench/import_scale.py --sizes 1000,10000
    .venv/bin/python bench/import_scale.py --sizes 50000 --shapes distinct --memory
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = ("one-secret", "many-rules", "distinct")


def finding(i: int, shape: str) -> dict:
    secret = (
        "sk_bench_" + hashlib.sha256(str(i if shape == "distinct" else 0).encode()).hexdigest()[:32]
    )
    rule = f"rule-{i}" if shape == "many-rules" else "generic-api-key"
    path = f"src/module{i // 100}/file{i}.py" if shape != "many-rules" else "src/app.py"
    commit = hashlib.sha1(str(i).encode()).hexdigest()  # noqa: S324 - a fake commit id
    return {
        "RuleID": rule,
        "Description": "Generic API Key",
        "StartLine": 10 + i % 500,
        "EndLine": 10 + i % 500,
        "StartColumn": 5,
        "EndColumn": 60,
        "Match": f"api_key = '{secret}'",
        "Secret": secret,
        "File": path,
        "SymlinkFile": "",
        "Commit": commit,
        "Entropy": 4.5,
        "Author": "dev",
        "Email": "dev@example.test",
        "Date": "2024-01-01T00:00:00Z",
        "Message": "add config",
        "Tags": [],
        "Fingerprint": f"{commit}:{path}:{rule}:{10 + i % 500}",
    }


def write_report(path: Path, n: int, shape: str) -> int:
    with open(path, "w") as f:
        json.dump([finding(i, shape) for i in range(n)], f)
    return path.stat().st_size


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_import(report: Path, out: Path) -> None:
    from workbench.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["import", "gitleaks", str(report), "-o", str(out), "--max-bytes", "1G"])
    if rc != 0:
        raise SystemExit(f"import of {report} failed with exit {rc}")


def peak_mb(code: str, *args: str) -> float:
    """Peak RSS (MB) of a fresh interpreter running ``code`` (``sys.argv[1:]`` = ``args``).

    Read from the child's own ``VmHWM``: ``ru_maxrss`` would keep the size of this (large)
    process that the child was forked from.
    """
    hwm = "; print(open('/proc/self/status').read(), file=sys.stderr)"
    proc = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code + hwm, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(f"{code[:40]}... failed with exit {proc.returncode}: {proc.stderr}")
    (kib,) = (ln.split()[1] for ln in proc.stderr.splitlines() if ln.startswith("VmHWM:"))
    return int(kib) / 1024


BARE_LOAD = "import json, sys; json.loads(open(sys.argv[1], 'rb').read())"
IMPORT = (
    "import sys; from workbench.cli import main; "
    "main(['import', 'gitleaks', sys.argv[1], '-o', sys.argv[2], '--max-bytes', '1G'])"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated finding counts")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    ap.add_argument(
        "--memory",
        action="store_true",
        help="also the peak RSS of the import and of a bare json.load, each in a fresh process",
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    shapes = [s for s in args.shapes.split(",") if s]
    memory = f" {'peak MB':>8} {'json.load':>9}" if args.memory else ""
    print(f"{'shape':<11} {'findings':>9} {'MB':>6} {'json.load s':>11} {'import s':>9} "
          f"{'cpu s':>7} {'ratio':>6} {'growth/10x':>10}{memory}")  # fmt: skip
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="wb-import-scale-") as tmp:
        for shape in shapes:
            previous: tuple[int, float] | None = None
            for n in sizes:
                report = Path(tmp) / f"{shape}-{n}.json"
                size = write_report(report, n, shape)
                bare, _ = timed(lambda report=report: json.loads(report.read_bytes()))
                wall, cpu = timed(lambda r=report: run_import(r, Path(tmp) / "out.yaml"))
                growth = ""
                if previous is not None:
                    per10 = (cpu / previous[1]) ** (1 / _log10(n / previous[0]))
                    worst = max(worst, per10)
                    growth = f"x{per10:.1f}"
                out = str(Path(tmp) / "out.yaml")
                peak = peak_mb(IMPORT, str(report), out) if args.memory else 0.0
                bare_peak = peak_mb(BARE_LOAD, str(report)) if args.memory else 0.0
                memory = f" {peak:>8.0f} {bare_peak:>9.0f}" if args.memory else ""
                print(f"{shape:<11} {n:>9} {size / 1e6:>6.1f} {bare:>11.3f} {wall:>9.2f} "
                      f"{cpu:>7.2f} {wall / bare:>6.1f} {growth:>10}{memory}")  # fmt: skip
                sys.stdout.flush()
                previous = (n, cpu)
    if worst:
        verdict = "OK" if worst <= 12 else "TOO SLOW"
        print(f"worst growth per 10x findings (CPU): x{worst:.1f} (goal <= x12): {verdict}")
    return 0


def _log10(x: float) -> float:
    import math

    return math.log10(x)


if __name__ == "__main__":
    sys.exit(main())
