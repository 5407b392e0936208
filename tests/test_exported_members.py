"""The public API (after httpx's tests/test_exported_members.py): ``__all__`` is the whole
surface, every name in it resolves, nothing private leaks, the lazy table and the
``TYPE_CHECKING`` mirror that editors read name the same objects, and the package is typed."""

import ast
import importlib
import json
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import workbench

INIT = Path(workbench.__file__)
INCLUDED_PRIVATE_MEMBERS = ["__version__"]


def test_all_is_a_sorted_literal():
    # A literal list (not computed) so linters, editors and `from workbench import *` agree.
    tree = ast.parse(INIT.read_text())
    literal = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            literal = ast.literal_eval(node.value)
    assert literal is not None, "__all__ is not a literal list"
    assert literal == workbench.__all__
    assert workbench.__all__ == sorted(workbench.__all__, key=str.lower)
    assert len(set(workbench.__all__)) == len(workbench.__all__)


def test_all_imports_are_exported():
    """What a fresh `import workbench` defines (public, not a submodule), plus the lazy names,
    is exactly ``__all__``: no helper leaks into the namespace and no export is forgotten."""
    script = (
        "import json, types, workbench\n"
        "names = [n for n, v in vars(workbench).items()"
        " if not isinstance(v, types.ModuleType)]\n"
        "print(json.dumps(names))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    defined = json.loads(proc.stdout)
    eager_public = {n for n in defined if not n.startswith("_") or n in INCLUDED_PRIVATE_MEMBERS}
    assert "Inventory" in eager_public
    assert sorted(eager_public | set(workbench._LAZY) | {"__version__"}, key=str.lower) == (
        workbench.__all__
    )


def test_no_private_names_exported():
    private = [
        n for n in workbench.__all__ if n.startswith("_") and n not in INCLUDED_PRIVATE_MEMBERS
    ]
    assert private == []


def test_every_exported_name_resolves_to_its_defining_object():
    for name in workbench.__all__:
        value = getattr(workbench, name)
        assert value is not None, name
        assert not isinstance(value, types.ModuleType), name
        module = workbench._LAZY.get(name)
        if module is not None:
            assert value is getattr(importlib.import_module(module), name), name


def test_unknown_name_is_an_attribute_error():
    try:
        workbench.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("workbench.no_such_name resolved")


def test_type_checking_mirror_matches_the_lazy_table():
    """Editors and type checkers see the lazy names through the TYPE_CHECKING block: it must
    import each lazy name from the module the lazy table loads it from, and nothing else."""
    tree = ast.parse(INIT.read_text())
    mirror: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    for alias in stmt.names:
                        assert alias.asname is None, alias.name
                        mirror[alias.name] = stmt.module
    assert mirror == workbench._LAZY


def test_version_comes_from_package_metadata():
    assert workbench.__version__ == metadata.version("workbench")
    from workbench import __version__

    assert __version__ == workbench.__version__ and __version__[0].isdigit()


def test_package_is_marked_typed():
    # PEP 561: without py.typed, type checkers ignore the annotations of an installed workbench.
    marker = INIT.parent / "py.typed"
    assert marker.is_file()
    assert marker.read_text() == ""
