"""The suite keeps itself honest: no assertion that silently does not run, no test skipped on
a machine CI sets up, no port picked the racy way.

- A ``try`` whose ``except SystemExit`` holds the assertion and that has no ``else`` skips
  the check whenever no exit happens (capture the code in the handler and assert after).
- ``pytest.skip`` / ``skipif`` / ``importorskip`` / ``xfail`` live only in testkit.py (the
  explicit WORKBENCH_SKIP_NGINX=1 opt-out); a missing program fails through
  ``testkit.require`` instead, and ``make test`` installs it.
- Ports for servers come from ``testkit.free_port`` (a reserved range, locked per process);
  the kernel's bind-then-close choice gave two HAProxies the same port under pytest-xdist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SKIP = re.compile(r"pytest\.skip\(|mark\.skip|importorskip|mark\.xfail|pytest\.xfail\(")
SKIP_ALLOWED = {"testkit.py", "test_suite_hygiene.py"}


def _sources(root: Path) -> list[Path]:
    files = sorted(root.rglob("*.py"))
    assert len(files) > 50, files  # the scan below sees the suite, not an empty directory
    return files


def _asserts(nodes: list[ast.stmt]) -> bool:
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Assert):
                return True
            if isinstance(sub, ast.Raise) and sub.exc is not None:
                return True
            if isinstance(sub, ast.Call) and ast.unparse(sub.func) in ("pytest.fail", "fail"):
                return True
    return False


def hollow_system_exit_checks(source: str) -> list[int]:
    """Lines of ``try`` statements whose only check runs when SystemExit is raised."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Try) or node.orelse or _asserts(node.body):
            continue
        for handler in node.handlers:
            caught = ast.unparse(handler.type) if handler.type is not None else "BaseException"
            if "SystemExit" in caught and _asserts(handler.body):
                found.append(node.lineno)
    return found


def test_the_system_exit_checker_finds_the_hollow_shape_and_passes_the_sound_ones():
    hollow = "try:\n    main(['x'])\nexcept SystemExit as e:\n    assert e.code == 2\n"
    assert hollow_system_exit_checks(hollow) == [1]
    captured = "try:\n    c = main(['x'])\nexcept SystemExit as e:\n    c = e.code\nassert c == 2\n"
    with_else = hollow + "else:\n    raise AssertionError('no exit')\n"
    raises = "with pytest.raises(SystemExit) as e:\n    main(['x'])\nassert e.value.code == 2\n"
    for sound in (captured, with_else, raises):
        assert hollow_system_exit_checks(sound) == [], sound


def test_no_check_is_skipped_when_no_exit_happens():
    hollow = {
        f"{p.relative_to(TESTS)}:{line}"
        for p in _sources(TESTS)
        for line in hollow_system_exit_checks(p.read_text())
    }
    assert not hollow, f"assert after the try, or add an else that fails: {sorted(hollow)}"


def test_nothing_is_skipped_outside_the_nginx_opt_out():
    skipping = [
        f"{p.relative_to(TESTS)}:{n}"
        for p in _sources(TESTS)
        if p.name not in SKIP_ALLOWED
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if SKIP.search(line)
    ]
    assert not skipping, f"use testkit.require (fails, CI installs the program): {skipping}"


def test_ports_come_from_the_reserved_allocator():
    racy = []
    for p in _sources(TESTS):
        if p.name in ("testkit.py", "test_suite_hygiene.py"):
            continue
        text = p.read_text()
        if re.search(r"from workbench\.gateway\.proc import[^\n]*\bfree_port\b", text):
            racy.append(f"{p.name}: free_port from workbench.gateway.proc")
        if re.search(r"def _?free_port\(", text):
            racy.append(f"{p.name}: its own free_port")
    assert not racy, f"use testkit.free_port: {racy}"


CHILD_CLAIMS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from testkit import claim_port, free_port
held = json.loads(sys.argv[2])
print(json.dumps({"taken": [p for p in held if claim_port(p)], "own": free_port()}))
"""


@pytest.mark.integration  # starts a Python process
def test_a_port_given_to_one_process_is_never_given_to_another():
    import json
    import subprocess
    import sys

    from testkit import free_port

    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    mine = [free_port() for _ in range(20)]
    assert len(set(mine)) == len(mine)
    # another test process (an xdist worker, another checkout's run) while these are held
    argv = [sys.executable, "-c", CHILD_CLAIMS, str(TESTS), json.dumps(mine)]
    child = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    assert child["taken"] == [] and child["own"] not in mine
    assert all(not low <= p <= high for p in [*mine, child["own"]])  # no bind(0) gets one
