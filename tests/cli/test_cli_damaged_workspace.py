"""A workspace database SQLite refuses (garbage, cut short, emptied, a table gone) is one
line naming state.db, exit 2, for every command that reads it; `--json` gives the JSON
error object. SQLite's own errors used to end these commands with a traceback."""

import json
import sqlite3

import pytest
from testkit import copy_inventory

from workbench.cli import main
from workbench.migration import init_workspace

PASSPHRASE = "damaged-workspace-test-not-secret"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("pristine")
    ws = base / "ws"
    init_workspace(copy_inventory(base), ws, passphrase=PASSPHRASE, kdf_rounds=1)
    return ws


def _damage(ws, how: str) -> None:
    db = ws / "state.db"
    if how == "garbage":
        db.write_bytes(b"\x17not sqlite at all\x00" * 200)
    elif how == "cut-short":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    elif how == "emptied":
        db.write_bytes(b"")
    else:
        with sqlite3.connect(db) as conn:
            conn.execute(f"DROP TABLE {how.removeprefix('no-')}")


@pytest.fixture
def damaged(pristine, tmp_path, request):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(pristine, ws)
    _damage(ws, request.param)
    return ws


HOW = ["garbage", "cut-short", "emptied", "no-steps", "no-certificates"]
COMMANDS = [
    ["status"],
    ["audit", "verify"],
    ["evidence", "--step", "pay-key-prod"],
    ["issue", "--step", "pay-key-prod"],
    ["export", "playbook", "--all", "--format", "json"],
]


@pytest.mark.parametrize("damaged", HOW, indirect=True)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_damaged_database_is_one_line_naming_state_db(damaged, command, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
    monkeypatch.chdir(damaged.parent)
    assert main([*command, "--workspace", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "state.db cannot be read" in err and "Traceback" not in err


@pytest.mark.parametrize("damaged", ["garbage", "no-steps"], indirect=True)
def test_json_errors_stay_json(damaged, capsys):
    assert main(["status", "--workspace", str(damaged), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "state.db cannot be read" in json.loads(captured.err)["error"]


def test_a_locked_workspace_says_so(pristine, capsys):
    from workbench.workspace.schema import database_error

    said = str(database_error(sqlite3.OperationalError("database is locked"), "ws"))
    assert said.startswith("workspace ws is locked by another workbench command")
