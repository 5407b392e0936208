"""Issue 11 point 9: 64 MiB stays the default guard; ``--max-bytes`` raises it explicitly."""

from __future__ import annotations

import json

import pytest
from testkit import SAMPLE

from workbench.cli import main
from workbench.inventory.yamlsafe import MAX_BYTES


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The sample inventory padded with comments to just over 64 MiB (a valid file)."""
    path = tmp_path_factory.mktemp("big") / "inventory.yaml"
    head = SAMPLE.read_bytes()
    line = b"# " + b"p" * 1021 + b"\n"
    with open(path, "wb") as f:
        f.write(head)
        f.write(line * ((MAX_BYTES - len(head)) // len(line) + 2))
    assert MAX_BYTES < path.stat().st_size < MAX_BYTES + 4096
    return path


def test_default_guard_refuses_with_a_hint(big, capsys):
    assert main(["inventory", "check", str(big)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"{big}:0:0: file is larger than 64 MiB; split it, or raise the guard with "
        "--max-bytes (e.g. --max-bytes 256M)"
    )


@pytest.mark.parametrize("argv", [["inventory", "check"], ["plan"], ["graph"]])
def test_max_bytes_raises_the_guard_for_each_loading_command(big, argv, capsys):
    rc = main([*argv, str(big), "--max-bytes", "65M", "--json"])
    out = capsys.readouterr()
    assert rc in (0, 1), out.err
    assert "larger than" not in out.err
    json.loads(out.out)


def test_max_bytes_can_lower_the_guard_and_bad_sizes_are_usage_errors(tmp_path, capsys):
    assert main(["inventory", "check", str(SAMPLE), "--max-bytes", "1K"]) == 2
    assert "larger than 1 KiB" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["inventory", "check", str(SAMPLE), "--max-bytes", "lots"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "is not a size" in err and len(err.strip().splitlines()) == 1


def test_workspace_commands_take_max_bytes_for_their_inventory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "max-bytes-passphrase")
    ws = str(tmp_path / "ws")
    assert main(["init", str(SAMPLE), "--workspace", ws, "--max-bytes", "1K"]) == 2
    assert "larger than 1 KiB" in capsys.readouterr().err
    assert main(["init", str(SAMPLE), "--workspace", ws]) == 0
    assert main(["status", "--workspace", ws, "--max-bytes", "1K"]) == 2
    assert "larger than 1 KiB" in capsys.readouterr().err
    assert main(["status", "--workspace", ws, "--max-bytes", "1M"]) == 0
