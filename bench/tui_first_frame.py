"""Time to the TUI's first painted frame in a real pseudo-terminal, against a bare Textual app.

Each run starts a fresh interpreter on its own pseudo-terminal (sized with TIOCSWINSZ, like
a terminal window) and reads what it draws until the first frame is on the screen: escape
sequences are stripped and the frame counts as painted once every marker is there (the
header's title, the footer's keys and, for the workbench, its "loading" line). Timed from
just before the process is started to that moment; the process's own CPU seconds at that
moment (``/proc/PID/stat``, all threads) are read too, since they do not move with the load
of a shared machine the way wall time does.

Measured in the same run, in rotating order so a burst of load elsewhere hits all alike:

- baseline: ``python -c 'import textual.app'`` then an empty ``App`` with a ``Header`` and a
  ``Footer`` (one binding), run until its first frame;
- ``workbench tui INVENTORY`` (the read-only planning view, the sample inventory);
- ``workbench tui --workspace DIR`` (the full app on a workspace made for the run).

Goal (issue 13): the workbench's first frame within a second at every size. It prints medians
per size and the ratio to the baseline.

    .venv/bin/python bench/tui_first_frame.py
    .venv/bin/python bench/tui_first_frame.py --runs 9 --sizes 80x24,160x45,250x70
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
WORKBENCH = Path(sys.executable).with_name("workbench")

BASELINE = """
import textual.app
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Header

class Empty(App):
    TITLE = "baseline"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield Footer()

Empty().run()
"""

_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def first_frame(argv: list[str], size: tuple[int, int], markers: tuple[str, ...], env) -> dict:
    """Start ``argv`` on a fresh pseudo-terminal of ``size``; seconds to the painted frame."""
    cols, rows = size
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = started + 60
        while True:
            if time.monotonic() > deadline:
                raise SystemExit(f"no first frame within 60 s from {argv}: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    raise SystemExit(f"{argv} exited {proc.returncode}: {seen[-400:]!r}")
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                raise SystemExit(f"{argv} closed its terminal: {seen[-400:]!r}") from None
            seen += chunk
            text = _ESCAPES.sub(b"", seen).decode("utf-8", "replace")
            if all(m in text for m in markers):
                wall = time.monotonic() - started
                cpu = cpu_seconds(proc.pid)
                return {"wall": wall, "cpu": cpu}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        # Drain so the child is not blocked writing while it shuts down.
        end = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < end:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def make_workspace(directory: Path, env) -> Path:
    inventory = directory / "inventory.yaml"
    shutil.copy(SAMPLE, inventory)
    ws = directory / "ws"
    subprocess.run(
        [str(WORKBENCH), "init", str(inventory), "--workspace", str(ws)],
        env={**env, "WORKBENCH_CA_PASSPHRASE": "bench-passphrase-not-secret"},
        check=True,
        capture_output=True,
    )
    return ws


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per case and size (median)")
    parser.add_argument("--sizes", default="80x24,160x45,250x70", help="COLSxROWS,...")
    args = parser.parse_args(argv)
    try:
        sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes takes COLSxROWS separated by commas, e.g. 80x24,160x45")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env |= {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
    footer = ("Quit",)
    with tempfile.TemporaryDirectory(prefix="tui-first-frame-") as tmp:
        ws = make_workspace(Path(tmp), env)
        cases = {
            "baseline (bare Textual app)": ([sys.executable, "-c", BASELINE], ("baseline",)),
            "workbench tui INVENTORY": ([str(WORKBENCH), "tui", str(SAMPLE)], ("loading",)),
            "workbench tui --workspace": (
                [str(WORKBENCH), "tui", "--workspace", str(ws)],
                ("loading",),
            ),
        }
        print(f"{args.runs} runs per case and size, medians; wall / CPU seconds to first frame")
        for size in sizes:
            results: dict[str, list[dict]] = {name: [] for name in cases}
            names = list(cases)
            for i in range(max(1, args.runs)):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    command, markers = cases[name]
                    results[name].append(first_frame(command, size, markers + footer, env))
            base_wall = statistics.median(r["wall"] for r in results[names[0]])
            base_cpu = statistics.median(r["cpu"] for r in results[names[0]])
            print(f"{size[0]}x{size[1]}:")
            for name in names:
                wall = statistics.median(r["wall"] for r in results[name])
                cpu = statistics.median(r["cpu"] for r in results[name])
                worst = max(r["wall"] for r in results[name])
                print(
                    f"  {name:30} {wall:5.2f} s wall (worst {worst:4.2f}) {cpu:5.2f} s CPU"
                    f"   x{wall / base_wall:4.2f} / x{cpu / base_cpu:4.2f} baseline",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
