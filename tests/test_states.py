"""Step states, gateway modes and verdicts have one definition (workbench/states.py), used
everywhere.

The scan below reads every module of the package and fails on a state or mode name written
as a string literal where the code decides something with it: a comparison (``==``, ``!=``,
``in``), a ``case``, a tuple/list/set or dict of several names, an argument named
mode/state/phase, or an argument of a function that sets a state or mode. "key" is also an
ordinary word (a request's credential, an inventory section), so it counts only where the
other side of the comparison speaks of a mode. Verdict names (PASS, FAIL, INCONCLUSIVE,
ERROR) are capitals that mean nothing else in the package: a string that is exactly one
counts wherever it stands (a comparison, a case, a tuple or set, a return, an argument, a
dict value); text around them ("PASS recorded at ...") does not.
"""

from __future__ import annotations

import ast
import json
import re
import sqlite3
from pathlib import Path

import workbench
from workbench.states import (
    CERTIFICATE_ONLY_MODES,
    KEY_RETIRED_STATES,
    VERDICTS_WORST_FIRST,
    GatewayMode,
    StepState,
    Verdict,
)

PACKAGE = Path(workbench.__file__).resolve().parent
NAMES = {s.value for s in StepState} | {m.value for m in GatewayMode}
VERDICT_NAMES = {v.value for v in Verdict}
ORDINARY_WORDS = {GatewayMode.KEY.value}  # counted only beside a mode
ARGUMENT_NAMES = {"mode", "state", "phase", "to_mode", "from_mode", "route_mode"}
SETTER_WORDS = ("state", "mode", "regress")


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for e in node.elts for v in _literals(e) if isinstance(e, ast.Constant)]
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("frozenset", "set"):
        return [v for a in node.args for v in _literals(a)]
    return []


def _named(values: list[str], context: str) -> list[str]:
    speaks_of_mode = "mode" in context.lower()
    return [v for v in values if v in NAMES and (v not in ORDINARY_WORDS or speaks_of_mode)]


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def stray_literals(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: names | code`` for each place that spells a state or mode by hand."""
    tree = ast.parse(source)
    found = []

    def seg(node: ast.AST) -> str:
        return ast.get_source_segment(source, node) or ""

    for node in ast.walk(tree):
        hits: list[str] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for side in sides:
                others = " ".join(seg(o) for o in sides if o is not side)
                hits += _named(_literals(side), others)
        elif isinstance(node, ast.MatchValue):
            hits += _named(_literals(node.value), "mode")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            named = _named(_literals(node), "mode")
            hits += named if len(named) >= 2 else []
        elif isinstance(node, ast.Dict):
            keys = [k for k in node.keys if k is not None]
            named = _named([v for k in keys for v in _literals(k)], "mode")
            hits += named if len(named) >= 2 else []
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ARGUMENT_NAMES:
                    hits += _named(_literals(kw.value), "mode")
            if any(word in _callee(node).lower() for word in SETTER_WORDS):
                for arg in node.args:
                    hits += _named(_literals(arg), "mode")
        if hits:
            code = seg(node).splitlines()[0][:90] if seg(node) else ""
            found.append(f"{filename}:{node.lineno}: {sorted(set(hits))} | {code}")
    verdicts: dict[int, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in VERDICT_NAMES:
            verdicts.setdefault(node.lineno, set()).add(node.value)
    lines = source.splitlines()
    for lineno, names in sorted(verdicts.items()):
        found.append(f"{filename}:{lineno}: {sorted(names)} | {lines[lineno - 1].strip()[:90]}")
    return found


def test_no_state_or_mode_spelled_by_hand_in_the_package():
    modules = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "states.py")
    assert len(modules) > 100
    stray = []
    for path in modules:
        stray += stray_literals(path.read_text(), str(path.relative_to(PACKAGE.parent)))
    assert stray == [], "use workbench.states (StepState, GatewayMode, Verdict):\n" + "\n".join(
        stray
    )


def test_the_scan_catches_each_kind_of_stray_literal():
    """Each shape the scan exists for is reported (so the package test cannot pass vacuously)."""
    cases = {
        'if step.state == "verified": pass': ["verified"],
        'ok = current not in ("dual", "rolled_back")': ["dual", "rolled_back"],
        'ok = route.mode != "key"': ["key"],
        'match state:\n    case "cut_over": pass': ["cut_over"],
        'MODES = ("key", "dual", "mtls", "mtls+token")': ["dual", "key", "mtls", "mtls+token"],
        'MEANING = {"dual": "overlap", "mtls": "certificates only"}': ["dual", "mtls"],
        'ws.set_step_state(key, "issued", reason="x")': ["issued"],
        'set_step_mode(campaign, key, "mtls")': ["mtls"],
        'Output("nginx-dual.conf", "t.j2", phase="dual")': ["dual"],
        'if run.verdict == "PASS": pass': ["PASS"],
        'ok = kinds == {"PASS"}': ["PASS"],
        'match verdict:\n    case "FAIL": pass': ["FAIL"],
        'WORST = ("FAIL", "ERROR", "INCONCLUSIVE")': ["ERROR", "FAIL", "INCONCLUSIVE"],
        'if v not in {"PASS", "FAIL"}: pass': ["FAIL", "PASS"],
        'def verdict_of(failures):\n    return "FAIL" if failures else "PASS"': ["FAIL", "PASS"],
        'doc = {"verdict": "INCONCLUSIVE", "probes": []}': ["INCONCLUSIVE"],
        'report = DrillReport(kind="canary", verdict="ERROR")': ["ERROR"],
        'COLOURS = {"PASS": "#2ca02c"}': ["PASS"],
    }
    for code, names in cases.items():
        found = stray_literals(code)
        assert found, code
        assert all(re.search(r"\[(.*)\]", f) for f in found)
        reported = {n for f in found for n in re.findall(r"'([^']+)'", f.split("|")[0])}
        assert reported == set(names), (code, found)


def test_the_scan_leaves_ordinary_words_and_members_alone():
    for code in (
        'if rec.get("auth") == "key": pass',  # a request's credential, not a mode
        'if kind != "key": pass',  # an inventory section
        "if step.state == StepState.VERIFIED: pass",
        'print({"issued": 3})',  # a JSON field named like a state
        "if mode in CERTIFICATE_ONLY_MODES: pass",
        "if run.verdict == Verdict.PASS: pass",
        'print(f"{step}: PASS recorded at {when}")',  # text around a verdict name
        'status = "NOT VERIFIED"',
        'level = "WARNING"',
    ):
        assert stray_literals(code) == [], code


def test_members_are_their_stored_text():
    """StrEnum members write and read back as the very text the database and JSON held."""
    assert [s.value for s in StepState] == [
        "planned", "issued", "dual", "cut_over", "verified", "failed", "rolled_back",
    ]  # fmt: skip
    assert [m.value for m in GatewayMode] == ["key", "dual", "mtls", "mtls+token"]
    assert json.dumps({"to": StepState.CUT_OVER}) == '{"to": "cut_over"}'
    assert f"{GatewayMode.MTLS_TOKEN}" == "mtls+token" and str(StepState.DUAL) == "dual"
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (StepState.ROLLED_BACK,))
    assert conn.execute("SELECT x, typeof(x) FROM t").fetchone() == ("rolled_back", "text")
    assert "verified" in KEY_RETIRED_STATES and "dual" not in KEY_RETIRED_STATES
    assert "mtls+token" in CERTIFICATE_ONLY_MODES and "key" not in CERTIFICATE_ONLY_MODES


def test_the_database_check_lists_exactly_the_step_states():
    """The schema's CHECK is frozen text (schema version 1): it must name the same states."""
    from workbench.workspace import schema

    ddl = schema._DDL
    check = re.search(r"state TEXT NOT NULL DEFAULT 'planned' CHECK \(state IN\s*\(([^)]*)\)", ddl)
    assert check is not None
    assert re.findall(r"'([a-z_]+)'", check.group(1)) == [s.value for s in StepState]


def test_verdicts_are_their_stored_text_and_ordered_worst_first():
    assert [v.value for v in Verdict] == ["PASS", "FAIL", "INCONCLUSIVE", "ERROR"]
    assert sorted(VERDICTS_WORST_FIRST) == sorted(Verdict) and len(set(VERDICTS_WORST_FIRST)) == 4
    assert VERDICTS_WORST_FIRST[0] == "FAIL" and VERDICTS_WORST_FIRST[-1] == "PASS"
    assert json.dumps({"verdict": Verdict.INCONCLUSIVE}) == '{"verdict": "INCONCLUSIVE"}'
    assert json.dumps([Verdict.PASS], indent=1) == '[\n "PASS"\n]'  # the pure-Python encoder
    assert f"{Verdict.FAIL}: {StepState.CUT_OVER}" == "FAIL: cut_over"
    assert ", ".join(Verdict) == "PASS, FAIL, INCONCLUSIVE, ERROR"  # the CLI's "use one of"
    conn = sqlite3.connect(":memory:")
    assert conn.execute("SELECT ?, typeof(?)", (Verdict.ERROR, Verdict.ERROR)).fetchone() == (
        "ERROR",
        "text",
    )


def test_the_frozen_copies_of_the_verdict_names_agree():
    """The schemas' CHECKs and the ticket's JSON Schema are frozen text: same names."""
    from workbench.drill import store as drill_store
    from workbench.workspace import schema

    def check_names(ddl: str) -> list[str]:
        found = re.search(r"verdict TEXT NOT NULL CHECK \(verdict IN \(([^)]*)\)\)", ddl)
        assert found is not None
        return re.findall(r"'([A-Z]+)'", found.group(1))

    assert check_names(schema._DDL) == [v.value for v in Verdict]
    drills = set(check_names(drill_store._DDL[0]))
    assert drills == {Verdict.PASS, Verdict.FAIL, Verdict.ERROR}  # a drill is never INCONCLUSIVE
    enums = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list) and "PASS" in node["enum"]:
                enums.append(node["enum"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in (PACKAGE / "playbook/templates/schema/ticket.v2.json",
                 PACKAGE.parent / "playbooks/schema/ticket.v2.json"):  # fmt: skip
        walk(json.loads(path.read_text()))
    assert len(enums) == 6
    for names in enums:
        assert [n for n in names if n != "NOT VERIFIED"] == [v.value for v in Verdict]
