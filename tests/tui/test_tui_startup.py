"""What the first frame costs: the footer rebuilds its keys once per burst of changes, and
the start-up path imports none of the core's heavy packages (bench/tui_first_frame.py
measures the time)."""

import json
import subprocess
import sys

from tui_support import FIXED_NOW, SIZE, app_inventory, fixed_clock, until

from workbench.tui.widgets.footer import KeysFooter


async def test_the_footer_rebuilds_its_keys_once_per_burst(tmp_path, quiet_env, monkeypatch):
    from workbench.plan import make_plan
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.source import PlanningSource

    rebuilds = []
    recompose = KeysFooter.recompose

    async def counted(self):
        rebuilds.append(len(self.children))
        await recompose(self)

    monkeypatch.setattr(KeysFooter, "recompose", counted)
    inv = app_inventory(tmp_path)
    app = WorkbenchApp(
        PlanningSource(inv, make_plan(inv, today=FIXED_NOW.date()), clock=fixed_clock)
    )
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(KeysFooter)
        await until(pilot, lambda: app.snapshot is not None and app.loading is None, "the plan")
        await pilot.pause()
        keys = [k.key for k in footer.children]
        assert keys == ["ctrl+q", "ctrl+r", "ctrl+p"]  # the views' keys are on the tabs
        # Textual's own Footer rebuilt five times before the first keys were drawn
        # (auto focus, focus, screen activation, two refreshes).
        assert 1 <= len(rebuilds) <= 2, rebuilds


def test_starting_the_tui_imports_no_heavy_core_package():
    """What `workbench tui FILE` imports before the app runs: Textual and the TUI's own
    modules, not networkx, cryptography, httpx, jinja2 or the migration package (they load
    in the worker, after the first frame)."""
    code = (
        "import json, sys\n"
        "from workbench.cli import build_parser\n"
        "from workbench.cli.tui_cmd import make_source\n"
        "args = build_parser().parse_args(['tui', 'sample_env/inventory.yaml'])\n"
        "make_source(args)\n"
        "import workbench.tui.app\n"
        "heavy = ('networkx', 'cryptography', 'httpx', 'jinja2', 'workbench.migration',"
        " 'workbench.plan', 'workbench.graph', 'workbench.pki', 'workbench.tui.screens.form',"
        " 'workbench.tui.screens.confirm')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    from tui_support import ROOT

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_the_readme_lists_every_key():
    """Every key binding of the app and of its dialogs is in the README's key table."""
    from tui_support import ROOT

    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.blocked import BlockedCutoverScreen
    from workbench.tui.screens.confirm import ConfirmScreen
    from workbench.tui.screens.form import FormScreen
    from workbench.tui.screens.passphrase import PassphraseScreen
    from workbench.tui.screens.secret import OldKeyScreen

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The TUI") :]
    section = section[: section.index("\n## ")]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ")]
    keys = " ".join(f"{cells[1]} {cells[2]}" for cells in rows if len(cells) > 2).lower()

    def listed(key: str) -> bool:
        said = {"escape": "esc", "enter": "enter", "tab": "tab"}.get(key)
        return f"`{key}`" in keys or (len(key) > 1 and (key in keys or (said or "") in keys))

    bindings = [*WorkbenchApp.BINDINGS, WorkbenchApp.COMMAND_PALETTE_BINDING]
    for screen in (
        ConfirmScreen,
        BlockedCutoverScreen,
        FormScreen,
        PassphraseScreen,
        OldKeyScreen,
    ):
        bindings += screen.BINDINGS
    names = {k.strip() for b in bindings for k in (b if isinstance(b, str) else b.key).split(",")}
    assert {"ctrl+q", "1", "4", "i", "c", "ctrl+r", "ctrl+p", "y", "escape"} <= names
    assert [k for k in sorted(names) if not listed(k)] == []
