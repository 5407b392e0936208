"""`make demo` (``python -m workbench.demo``), a front end like the TUI, run for real twice in a
temp directory on a free port: its story fits about 150 lines with no JSON on screen, set-up
shows progress, every artefact it names exists (a graph picture among them), and the second
run starts from a clean sample environment, not from the first run's gateway modes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from testkit import free_port, pid_alive
from tui_support import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run_demo(out: Path, port: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.demo", "--out", str(out), "--port", str(port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not ANSI.search(proc.stdout), "escape codes in output that goes to a pipe"
    return proc.stdout.splitlines()


def _gateway_pid(lines: list[str]) -> int:
    [line] = [x for x in lines if x.strip().startswith("gateway pid ")]
    return int(line.split()[2].rstrip(","))


def test_the_demo_tells_its_story_and_every_run_starts_clean(tmp_path):
    out, port = tmp_path / "demo-out", free_port()
    first = _run_demo(out, port)

    # The story: about 150 lines, each stage a sentence, no JSON dumped on the screen.
    assert 100 <= len(first) <= 170, len(first)
    assert not [x for x in first if x.lstrip().startswith(("{", '"', "["))]
    chapters = [x for x in first if x.startswith("== ")]
    assert len(chapters) >= 12, chapters
    # Set-up shows progress and how long it took.
    setup = [x for x in first if re.search(r" done \(\d+\.\d s\)$", x)]
    assert len(setup) == 2, setup
    # The verdict tables.
    assert any(x.split()[:1] == ["verdict"] and x.count("PASS") >= 2 for x in first)
    assert any("FAIL (step now rolled_back)" in x for x in first)

    # Every artefact it names is there; the full JSON went to files.
    where = first[first.index("== Where everything is") + 1 :]
    named = [x.split()[0] for x in where if x.startswith("  ") and not x.startswith("  browse")]
    assert len(named) >= 6, where
    for name in named:
        if "{" in name:  # graph.{json,graphml,dot,mmd}
            stem, exts = name.rstrip("}").split("{")
            paths = [Path(stem + ext) for ext in exts.split(",")]
        else:
            paths = [Path(name)]
        for path in paths:
            path = path if path.is_absolute() else ROOT / path
            assert path.exists(), (name, path)
    svg = (out / "graph.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "</svg>" in svg
    plan = json.loads((out / "output" / "plan.json").read_text())
    assert plan["steps"] == 16 and len(plan["waves"]) == 4
    assert not pid_alive(_gateway_pid(first))  # stopped at the end

    # The first run left gateways in mtls and mtls+token and a step rolled back; the second
    # starts from the sample again: every API in key mode, the same story, the same counts.
    assert json.loads((out / "output" / "status.json").read_text())["counts"] == {
        "planned": 11,
        "rolled_back": 1,
        "verified": 4,
    }
    (out / "stale-from-an-old-run.txt").write_text("left behind")
    second = _run_demo(out, port)
    assert any(x.strip().endswith("11 APIs in key") for x in second), second[:40]
    assert not (out / "stale-from-an-old-run.txt").exists()
    assert [x for x in second if "steps now:" in x] == [x for x in first if "steps now:" in x]
    assert [x for x in second if " planned, " in x] == [x for x in first if " planned, " in x]
    assert not pid_alive(_gateway_pid(second))
