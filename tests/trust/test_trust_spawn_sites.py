"""Requirement 29 by construction: every spawn site passes ``env=child_environ(...)``.

The real-process test (test_trust_child_env) proves the helper works for the processes that
run today; this one keeps the next spawn site (a new gateway kind, a reload command) from
forgetting it: any ``subprocess``/``os.exec*``/``asyncio`` process start in the package
without ``env=child_environ(...)`` fails here, naming the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

PACKAGE = Path(workbench.__file__).parent
SPAWNERS = {
    "subprocess": {"run", "Popen", "call", "check_call", "check_output"},
    "asyncio": {"create_subprocess_exec", "create_subprocess_shell"},
    "os": {"execve", "execvpe", "spawnve", "posix_spawn"},
}
NO_ENV = {"execv", "execvp", "execl", "execlp", "system", "popen", "spawnv", "spawnl"}
"""os functions that always pass the whole environment on: never allowed."""


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _module_of(func: ast.expr) -> str | None:
    return (
        func.value.id
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        else None
    )


def _spawn_calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name, module = _name(node.func), _module_of(node.func)
            spawns = name in SPAWNERS.get(module or "", ()) or (module == "os" and name in NO_ENV)
            if spawns or (module is None and name == "Popen"):
                yield path, node, name


def test_every_spawn_site_uses_child_environ():
    sites, bad = [], []
    for path, node, name in _spawn_calls():
        where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno} ({name})"
        sites.append(where)
        env = next((k.value for k in node.keywords if k.arg == "env"), None)
        if name in NO_ENV or not (isinstance(env, ast.Call) and _name(env.func) == "child_environ"):
            bad.append(where)
    assert len(sites) >= 3, sites  # nginx -t, the process starter, the demo's client
    assert not bad, f"spawn sites without env=child_environ(...): {bad}"
