"""The scale benchmark runs end to end on a small size (the real figures come from `make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_generated_inventory_loads_and_plans(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import plan_scale
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from workbench.inventory import load_inventory
    from workbench.plan import make_plan

    path = tmp_path / "inv.yaml"
    shape = plan_scale.generate(400, path)
    raw = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    assert len(raw["integrations"]) == shape["integrations"] <= 400
    inv = load_inventory(path)  # the real loader accepts it
    plan = make_plan(inv)
    assert len(plan.steps) == shape["keys"]
    assert any("orphan" in s.flags for s in plan.steps)
    assert max(len(inv.consumers_of(k.id)) for k in inv.keys) > 3


def test_bench_script_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "plan_scale.py"), "--sizes", "100,1000"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "x bare" in proc.stdout and "growth 100 -> 1000" in proc.stdout
    assert "loader: load_inventory" in proc.stdout
