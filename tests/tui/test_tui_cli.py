"""`workbench tui` argument handling: which source opens, and bad input as one line (exit 2)."""

import argparse

import pytest
from tui_support import copy_inventory, make_workspace

from workbench.cli import build_parser, main
from workbench.cli.tui_cmd import make_source
from workbench.tui.source import PlanningSource, WorkspaceSource


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["tui", *argv])


def test_inventory_alone_opens_the_planning_view(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = make_source(_args(str(copy_inventory(tmp_path)), "--strategy", "pilot-first"))
    assert isinstance(source, PlanningSource) and source.read_only
    assert source.plan is None  # read and planned by the app's loading worker, not before
    snapshot = source.load()
    assert source.plan.strategy == "pilot-first" and len(snapshot.rows) == 16


def test_workspace_opens_the_full_app(tmp_path, quiet_env):
    ws = make_workspace(tmp_path)
    source = make_source(_args("--workspace", str(ws)))
    assert isinstance(source, WorkspaceSource) and not source.read_only
    assert len(source.load().rows) == 16
    quiet_env.chdir(tmp_path)
    ws.rename(tmp_path / ".workbench")
    default = make_source(_args())  # ./.workbench when it exists
    assert isinstance(default, WorkspaceSource)


def test_bad_inventory_is_a_one_line_error_after_the_loading_screen(tmp_path, capsys):
    """The file is parsed in the app's worker; its error still ends the command in one line
    with exit 2 (the app exits by itself, headless here)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\napis: [\n")
    assert main(["tui", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "Traceback" not in err


def test_missing_inventory_is_a_one_line_error(tmp_path, capsys):
    assert main(["tui", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.yaml" in err


def test_nothing_to_open_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tui"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "INVENTORY" in err


@pytest.mark.parametrize("what", ["missing-workspace", "other-inventory"])
def test_bad_workspace_is_a_one_line_error(tmp_path, quiet_env, capsys, what):
    if what == "missing-workspace":
        argv = ["tui", "--workspace", str(tmp_path / "nope")]
    else:
        ws = make_workspace(tmp_path)
        other = tmp_path / "other"
        other.mkdir()
        argv = ["tui", str(copy_inventory(other)), "--workspace", str(ws)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
