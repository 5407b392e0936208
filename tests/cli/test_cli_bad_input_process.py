"""Bad input through the installed entry point as a real process: what a user's shell sees.

Kept few (each start costs ~0.3 s); the full table runs in-process in test_cli_bad_input.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bad_inputs import MINI
from bad_reports import ALL_CASES

WORKBENCH = [sys.executable, "-m", "workbench"]
SAMPLE = [
    "alias-bomb",
    "deep-flow",
    "gitleaks-file-int",
    "trufflehog-pretty",
    "csv-no-header",
    "baseline-truncated",
]


def _argv(kind: str, path: Path) -> list[str]:
    return ["inventory", "check", str(path)] if kind == "inventory" else ["import", kind, str(path)]


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        **kw,
    )


@pytest.mark.parametrize("name", SAMPLE)
def test_a_process_exits_2_with_one_line_and_no_traceback(tmp_path, name):
    case = ALL_CASES[name]
    path = tmp_path / f"{name}.in"
    path.write_bytes(case.data)
    proc = _run([*WORKBENCH, *_argv(case.kind, path)])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"{path}:{case.line or 0}:") and case.expect in line
    proc = _run([*WORKBENCH, *_argv(case.kind, path), "--json"])
    assert proc.returncode == 2
    assert json.loads(proc.stderr)["location"].startswith(f"{path}:{case.line or 0}:")


def test_a_fifo_nobody_writes_to_does_not_hang(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: before, the command hung."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = _run([*WORKBENCH, "import", "detect-secrets", str(fifo)])  # timeout: 60 s
    assert proc.returncode == 2
    assert proc.stderr == (
        f"{fifo}:0:0: report is empty; expected a JSON object with 'results' "
        "(detect-secrets scan > .secrets.baseline)\n"
    )


def test_process_substitution_is_read(tmp_path):
    """``<(cat inventory.yaml)`` is a pipe: read to its end, not refused as a non-file."""
    inv = tmp_path / "inv.yaml"
    inv.write_text(MINI)
    cmd = " ".join([*WORKBENCH, "inventory", "check", f'<(cat "{inv}")'])
    proc = _run(["bash", "-c", cmd])
    assert proc.returncode in (0, 1), proc.stderr
    assert "valid; 1 apis, 1 services, 1 keys, 1 integrations" in proc.stderr


def test_an_unreadable_file_says_so(tmp_path):
    """Permission denied: one line naming the file and what to fix. Root reads anything, so
    as root the process runs without the capabilities that let it (still uid 0: the
    checkout, wherever CI put it and however private, stays readable to it)."""
    inv = tmp_path / "inv.yaml"
    inv.write_text(MINI)
    inv.chmod(0o000)
    argv = [*WORKBENCH, "inventory", "check", str(inv)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root's file capabilities"
        caps = "-dac_override,-dac_read_search"
        argv = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", *argv]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = _run(argv, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"{inv}:0:0: cannot read: Permission denied; make the file readable "
        "(chmod, chown) or run as its owner\n"
    )
