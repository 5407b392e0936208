"""The plain CLI in a real terminal and in pipes: a passphrase prompt is never hidden by a
progress bar, NO_COLOR and TERM=dumb mean no escape codes even on a terminal, `--json`
keeps stdout to the JSON document, and a reader that stops early (`| head`) ends the
command quietly with status 0."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from terminal import BASE_ENV, PASSPHRASE, WORKBENCH
from testkit import copy_inventory

ESCAPE = "\x1b"


def test_the_passphrase_prompt_is_not_hidden_by_the_progress_bar(terminal, workspace):
    """The bar of `issue` redrew its line over the "CA passphrase:" prompt, asked only
    once the CA key was needed under it: the user saw a bar at 0/4 waiting for nothing."""
    term = terminal([WORKBENCH, "issue", "--step", "pay-key-prod", "--workspace", workspace])
    term.wait_for("CA passphrase:")
    term.type(PASSPHRASE)
    term.keys("Enter")
    assert term.exit_status() == 0
    assert "4 issued" in term.text()


@pytest.mark.parametrize("plain", [{"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=["NO_COLOR", "dumb"])
def test_no_color_and_a_dumb_terminal_get_no_escape_codes(tmp_path, terminal, workspace, plain):
    """rich dropped the colours for NO_COLOR but kept bold and italic codes on a terminal."""
    out = tmp_path / "screen.txt"
    # `script` gives the command a terminal of its own and keeps every byte it wrote there.
    argv = ["script", "-qec", f"{WORKBENCH} status --workspace {workspace}", str(out)]
    term = terminal(argv, env={**BASE_ENV, **plain})
    assert term.exit_status() == 0
    written = out.read_text()
    assert "pay-key-prod" in written and ESCAPE not in written


def test_json_on_a_terminal_writes_only_the_document_to_stdout(tmp_path, terminal, workspace):
    """stdout into a file, stderr on the terminal: no progress, no escape codes, one JSON."""
    out = tmp_path / "issue.json"
    env = {**BASE_ENV, "WORKBENCH_CA_PASSPHRASE": PASSPHRASE}
    command = f"{WORKBENCH} issue --wave 1 --workspace {workspace} --json > {out}"
    term = terminal(["sh", "-c", command], env=env)
    assert term.exit_status() == 0
    text = out.read_text()
    assert ESCAPE not in text
    steps = {doc["step"]: doc for doc in json.loads(text)}
    assert {"pay-key-prod", "records-key", "claims-key"} <= set(steps)
    assert len(steps["pay-key-prod"]["issued"]) == 4  # every consumer of the step
    assert "issuing" not in term.screen()  # no bar on stderr either


def _with_reader_gone(argv: list[str], cwd) -> subprocess.CompletedProcess:
    """Run ``argv`` with stdout a pipe whose reader has already gone, as `| head -1` is
    once it has its line: every write fails (EPIPE), whatever the output's size."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            argv,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**BASE_ENV, "WORKBENCH_CA_PASSPHRASE": PASSPHRASE},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "command",
    [
        ["plan", "{inventory}"],
        ["plan", "{inventory}", "--json"],
        ["graph", "{inventory}", "--format", "dot"],
        ["status", "--workspace", "{workspace}"],
        ["audit", "show", "--workspace", "{workspace}"],
        ["status", "--workspace", "{workspace}", "--json"],
    ],
    ids=lambda c: " ".join(x for x in c if "{" not in x),
)
def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path, workspace, command):
    """Tables (rich) exited 1 when the reader went, the JSON documents 0: now all 0, and
    never a traceback or an "Exception ignored" line."""
    inventory = copy_inventory(tmp_path)
    argv = [str(WORKBENCH), *(a.format(inventory=inventory, workspace=workspace) for a in command)]
    done = _with_reader_gone(argv, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_piped_output_has_no_escape_codes(tmp_path, workspace):
    done = subprocess.run(
        [str(WORKBENCH), "status", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        env={**BASE_ENV, "TERM": "xterm-256color"},
        timeout=120,
        check=True,
    )
    assert "pay-key-prod" in done.stdout
    assert not re.search(ESCAPE, done.stdout + done.stderr)
