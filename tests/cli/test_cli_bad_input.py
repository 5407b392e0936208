"""Bad input through the real CLI entry point: exit 2, one located line, JSON with --json,
never a traceback, nothing written (the product rule for inventories and scanner reports).

Every case of ``bad_inputs.ALL_CASES`` holds one defect and runs three ways through
``workbench.cli.main``: plain (one line ``FILE:LINE:COL: message`` on stderr), ``--json``
(one JSON object ``{"error", "location"}`` on stderr), and as the input of a command that
writes (``init`` for an inventory, ``import -o`` for a report), which must leave nothing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from bad_inputs import CSV, GITLEAKS, MINI, Bad
from bad_reports import ALL_CASES, VALID_VARIANTS

from workbench.cli import main

LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>\S.*)$")


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "bad-input table passphrase 1234")


def _argv(case: Bad, path: Path) -> list[str]:
    if case.kind == "inventory":
        return ["inventory", "check", str(path)]
    return ["import", case.kind, str(path)]


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_located_line(err: str, path: Path, case: Bad) -> re.Match:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    m = LINE.match(lines[0])
    assert m, lines[0]
    assert m["file"] == str(path)
    assert case.expect in m["message"], m["message"]
    if case.line is None:
        assert m["line"] == "0", lines[0]
    else:
        assert int(m["line"]) == case.line, lines[0]
    return m


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_bad_input_is_one_located_line(tmp_path, capsys, name):
    case = ALL_CASES[name]
    path = tmp_path / f"{name}.in"
    path.write_bytes(case.data)
    code, out, err = _run(capsys, _argv(case, path))
    assert code == 2, (out, err)
    _one_located_line(err, path, case)
    if case.kind != "inventory":
        assert out == ""


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_bad_input_with_json_is_one_json_object(tmp_path, capsys, name):
    case = ALL_CASES[name]
    path = tmp_path / f"{name}.in"
    path.write_bytes(case.data)
    code, out, err = _run(capsys, [*_argv(case, path), "--json"])
    assert code == 2
    assert "Traceback" not in err
    doc = json.loads(err)  # one document: two would fail to parse
    assert set(doc) == {"error", "location"}, doc
    assert case.expect in doc["error"]
    file, line, _col = doc["location"].rsplit(":", 2)
    assert file == str(path)
    assert int(line) == (case.line or 0)
    if case.kind == "inventory":  # inventory check --json also says so on stdout
        assert json.loads(out)["valid"] is False


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_commands_that_write_leave_nothing_behind(tmp_path, capsys, name):
    case = ALL_CASES[name]
    given = tmp_path / "given"
    given.mkdir()
    path = given / f"{name}.in"
    path.write_bytes(case.data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    if case.kind == "inventory":
        argv = ["init", str(path), "--workspace", str(out_dir / "ws")]
    else:
        argv = ["import", case.kind, str(path), "-o", str(out_dir / "inventory.yaml")]
    code, _out, err = _run(capsys, argv)
    assert code == 2
    _one_located_line(err, path, case)
    assert list(out_dir.iterdir()) == []
    assert [p.name for p in given.iterdir()] == [path.name]


def test_import_into_a_bad_inventory_names_the_inventory(tmp_path, capsys):
    bad = tmp_path / "inv.yaml"
    bad.write_text(MINI.replace("owner: team-web", "owner: off"))
    sheet = tmp_path / "s.csv"
    sheet.write_text(CSV)
    out = tmp_path / "merged.yaml"
    code, _, err = _run(capsys, ["import", "csv", str(sheet), "--into", str(bad), "-o", str(out)])
    assert code == 2
    assert err.startswith(f"{bad}:11:12: owner: 'off' is read as")
    assert len(err.splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("kind", ["inventory", "gitleaks", "trufflehog", "detect-secrets", "csv"])
def test_valid_variants_are_accepted(tmp_path, capsys, kind):
    """BOMs, CRLF, empty-but-valid reports, old baselines, Excel sheets: not errors."""
    names = [n for n, (k, _) in VALID_VARIANTS.items() if k == kind]
    assert names
    for name in names:
        path = tmp_path / name
        path.write_bytes(VALID_VARIANTS[name][1])
        argv = (
            ["inventory", "check", str(path)]
            if kind == "inventory"
            else ["import", kind, str(path)]
        )
        code, _out, err = _run(capsys, argv)
        assert code in (0, 1) if kind == "inventory" else code == 0, (name, err)
        assert "Traceback" not in err


# -- the file itself is not a file ---------------------------------------------------------


def _paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    return {
        "directory": (directory, "is a directory"),
        "missing": (tmp_path / "nope.yaml", "No such file or directory; check the path"),
        "device": (Path("/dev/zero"), "is a device, not a file"),
        "missing-parent": (tmp_path / "no" / "such" / "inv.yaml", "check the path"),
    }


@pytest.mark.parametrize("which", ["directory", "missing", "device", "missing-parent"])
@pytest.mark.parametrize(
    "kind", ["inventory", "gitleaks", "trufflehog", "detect-secrets", "csv", "policy"]
)
def test_not_a_readable_file(tmp_path, capsys, which, kind):
    path, expect = _paths(tmp_path)[which]
    if kind == "inventory":
        argv = ["inventory", "check", str(path)]
    elif kind == "policy":
        sample = tmp_path / "inv.yaml"
        sample.write_text(MINI)
        argv = ["plan", str(sample), "--policy", str(path)]
    else:
        argv = ["import", kind, str(path)]
    code, _out, err = _run(capsys, argv)
    assert code == 2, err
    (line,) = err.splitlines()
    assert line.startswith(f"{path}:") and expect in line, line


def test_too_large_names_the_guard(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_text(GITLEAKS * 4)
    code, _, err = _run(capsys, ["import", "gitleaks", str(path), "--max-bytes", "1K"])
    assert code == 2
    assert err == (
        f"{path}:0:0: file is larger than 1 KiB; split it, or raise the guard with "
        "--max-bytes (e.g. --max-bytes 256M)\n"
    )


# -- outputs that are not files --------------------------------------------------------------


def _targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    return {
        "directory": (directory, "is a directory; name a file to write"),
        "fifo": (fifo, "is not a regular file (a device or pipe)"),
        "missing-parent": (tmp_path / "no" / "out.yaml", "its directory does not exist"),
    }


@pytest.mark.parametrize("which", ["directory", "fifo", "missing-parent"])
@pytest.mark.parametrize("command", ["import", "graph-export", "graph-picture"])
def test_output_that_is_not_a_file_is_refused_and_kept(tmp_path, capsys, which, command):
    """``-o`` over a device or pipe would replace it with a plain file (as root: /dev/null
    for every program); over a directory the rename failed with a traceback."""
    target, expect = _targets(tmp_path)[which]
    inv = tmp_path / "inv.yaml"
    inv.write_text(MINI)
    argv = {
        "import": [
            "import",
            "csv",
            str(Path(__file__).parent.parent / "fixtures" / "inventory" / "integrations.csv"),
            "-o",
            str(target),
        ],
        "graph-export": ["graph", str(inv), "--format", "json", "-o", str(target)],
        "graph-picture": ["graph", str(inv), "--format", "svg", "-o", str(target)],
    }[command]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(capsys, argv)
    assert code == 2, (out, err)
    assert err == f"{target}:0:0: {expect}" + err.split(expect, 1)[1]
    assert len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if which == "fifo":
        assert os.path.exists(target) and not target.is_file()  # still the pipe
