"""Performance against the bare libyaml load, import hygiene, help texts."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from inventory_synth import synth_inventory_yaml

from workbench.cli import main
from workbench.inventory import loads_inventory


def test_loader_reads_a_synthetic_inventory_like_libyaml():
    # Speed against the bare libyaml load is measured by bench/plan_scale.py, not here.
    text = synth_inventory_yaml(2_000)
    bare = yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506
    inv = loads_inventory(text, "synth.yaml")
    assert len(inv.integrations) == len(bare["integrations"]) == 2_000


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
