"""Mutation fuzzing of the sample inventory and the sample scanner reports through the CLI.

Each example takes a real file (sample_env/inventory.yaml, tests/fixtures/inventory/*),
applies a few mutations a hostile or clumsy editor makes (YAML 1.1 traps, anchors, tags,
brackets, control bytes, a BOM, CRLF, invalid UTF-8, a cut, a duplicated or dropped line,
a changed JSON type) and runs the command on it. Whatever comes out must follow the
product rule: exit 0/1 for a file that is still valid, else exit 2 with only located
``FILE:LINE:COL: message`` lines (and one JSON object with ``--json``), never a traceback.

Deterministic for CI: ``derandomize=True`` (examples derived from the test's name), no
example database, a fixed number of examples, no deadline (a loaded machine is slow).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "inventory"
SOURCES = {
    "inventory": ROOT / "sample_env" / "inventory.yaml",
    "gitleaks": FIXTURES / "gitleaks.json",
    "trufflehog": FIXTURES / "trufflehog.jsonl",
    "detect-secrets": FIXTURES / "detect-secrets.baseline",
    "csv": FIXTURES / "integrations.csv",
}
LOCATED = re.compile(r"^.+:\d+:\d+: \S")

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TOKENS = [
    b"no", b"on", b"0755", b"2024-01-01", b"1e3", b"~", b"null", b"&a ", b"*a",
    b"!!python/name:os.system ",
    b"[", b"]", b"{", b"}", b"- ", b": ", b"'", b'"', b",", b";", b"\t", b"\n", b"\r\n", b"\x00",
    b"\x07", b"\x1b[31m", b"\xff", b"\xc3", b"\xef\xbb\xbf", "\u202e".encode(), b"-1", b"true",
    b"99999999999999999999999", b"<<: ", b"---\n", b"%YAML 1.1\n", b"#", b"|", b">", b"?",
]  # fmt: skip


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` after 1-4 mutations at drawn places."""
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data = draw(st.sampled_from(TOKENS))
            continue
        at = draw(st.integers(0, len(data) - 1))
        op = draw(
            st.sampled_from(["insert", "replace-word", "cut", "drop-line", "dup-line", "truncate"])
        )
        if op == "insert":
            data = data[:at] + draw(st.sampled_from(TOKENS)) + data[at:]
        elif op == "replace-word":
            end = at
            while end < len(data) and data[end : end + 1] not in b" \n,:[]{}\"'":
                end += 1
            data = data[:at] + draw(st.sampled_from(TOKENS)) + data[end:]
        elif op == "cut":
            data = data[:at] + data[at + draw(st.integers(1, 40)) :]
        elif op in ("drop-line", "dup-line"):
            lines = data.split(b"\n")
            i = at % len(lines)
            lines[i:i + 1] = [] if op == "drop-line" else [lines[i], lines[i]]  # fmt: skip
            data = b"\n".join(lines)
        else:
            data = data[:at]
    return data


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _check(kind: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzzed-{kind}"
        path.write_bytes(data)
        argv = (
            ["inventory", "check", str(path)]
            if kind == "inventory"
            else ["import", kind, str(path)]
        )
        out_file = Path(tmp) / "out.yaml"
        if kind != "inventory":
            argv += ["-o", str(out_file)]
        code, _out, err = _run(argv)
        assert "Traceback" not in err
        if code in (0, 1) and kind == "inventory" or code == 0:
            return  # still valid: nothing to check here but that no exception escaped
        assert code == 2, (code, err)
        lines = err.splitlines()
        assert lines and all(LOCATED.match(line) for line in lines), lines
        assert all(
            line.startswith(f"{path}:") or "more problems not shown" in line for line in lines
        )
        assert not out_file.exists()
        assert sorted(os.listdir(tmp)) == [path.name]  # no temp file left either
        code, _out, err = _run([*argv, "--json"])
        assert code == 2
        doc = json.loads(err)
        assert doc["location"].startswith(f"{path}:")


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_mutated_inputs_follow_the_error_rule(kind):
    original = SOURCES[kind].read_bytes()

    @FUZZ
    @given(mutated(original))
    def run(data: bytes) -> None:
        _check(kind, data)

    run()
