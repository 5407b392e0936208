"""The core stays pure (no UI imports) and the public API stays curated."""

import json
import pkgutil
import subprocess
import sys

import workbench

FRONT_ENDS = (
    "workbench.cli",
    "workbench.tui",
    "workbench.demo",
    "workbench.__main__",
    "workbench.lab",
)
UI_PACKAGES = ("textual", "rich", "click")


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(workbench.__path__, prefix="workbench."):
        if info.name.startswith(FRONT_ENDS):
            continue
        names.append(info.name)
    return sorted(names)


def test_core_imports_no_ui_package():
    modules = core_modules()
    assert "workbench.errors" in modules and len(modules) > 3
    script = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(p for p in {UI_PACKAGES!r} if p in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [], "a core module imports a UI package"


def test_public_api_names_resolve():
    for name in workbench.__all__:
        assert hasattr(workbench, name), name


def test_import_workbench_stays_light():
    """`workbench --help` must not pay for networkx or cryptography (lazy public API)."""
    script = (
        "import sys, json, workbench, workbench.cli\n"
        "workbench.cli.build_parser()\n"
        "print(json.dumps([m for m in ('networkx', 'cryptography', 'textual', 'jinja2')"
        " if m in sys.modules]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_layer_contracts_hold_and_cover_every_core_package():
    """import-linter (contracts in pyproject.toml): the core imports no lab and no front end,
    the lab no front end; every top-level package other than those is in the core list."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    core = set(config["contracts"][0]["source_modules"])
    above = {
        "workbench.lab",
        "workbench.cli",
        "workbench.tui",
        "workbench.demo",
        "workbench.rehearsal",
    }
    top = {
        f"workbench.{info.name}"
        for info in pkgutil.iter_modules(workbench.__path__)
        if info.name not in ("__main__", "jsonable")
    }
    assert top - above - core == set(), "a new package must join a layer contract"
    assert set(config["contracts"][0]["forbidden_modules"]) == above
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert proc.stdout.count(" KEPT") == len(config["contracts"])


MAX_MODULE_LINES = 450


def test_no_module_over_450_lines():
    """Small modules with one job (house style: split well before 400): none may pass 450."""
    from pathlib import Path

    package = Path(workbench.__file__).resolve().parent
    sizes = {
        str(p.relative_to(package.parent)): len(p.read_text().splitlines())
        for p in package.rglob("*.py")
    }
    assert len(sizes) > 100 and max(sizes.values()) > 300  # the walk found the package
    over = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert over == {}, f"split these by job (limit {MAX_MODULE_LINES} lines): {over}"
