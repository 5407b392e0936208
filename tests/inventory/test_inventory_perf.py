"""Performance against the bare libyaml load, import hygiene, help texts."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml
from inventory_synth import synth_inventory_yaml

from workbench.cli import main
from workbench.inventory import loads_inventory


def test_loader_is_within_3x_of_bare_csafeloader():
    text = synth_inventory_yaml(2_000)

    def best(fn) -> float:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    bare = best(lambda: yaml.load(text, Loader=yaml.CSafeLoader))  # noqa: S506
    ours = best(lambda: loads_inventory(text, "synth.yaml"))
    inv = loads_inventory(text, "synth.yaml")
    assert len(inv.integrations) == 2_000
    assert ours < 3 * bare, (ours, bare)


def test_core_imports_no_ui():
    code = (
        "import sys, workbench.inventory, workbench.inventory.importers\n"
        "bad = [m for m in ('textual', 'rich', 'click') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "argv", [["inventory", "check", "--help"], ["import", "--help"], ["inventory", "--help"]]
)
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage:" in capsys.readouterr().out
