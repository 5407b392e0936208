"""Rows become typed objects in one place (workspace/records.py): a step's state is a
StepState, a verdict a Verdict, a gateway change's modes GatewayModes. A value the
workbench does not know (a database edited by hand, its CHECK constraints switched off) is
a clear WorkspaceError naming the row and the value, exit 2 at the CLI, never a traceback.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from trust_support import STEP
from trust_support import sql as edit

from workbench.cli import main
from workbench.errors import WorkspaceError
from workbench.states import GatewayMode, StepState, Verdict
from workbench.workspace import Workspace


def unchecked(ws_dir, statement: str) -> None:
    """An edit the schema's CHECK would refuse, made with the checks switched off."""
    edit(ws_dir, "PRAGMA ignore_check_constraints = ON", statement)


def test_rows_read_back_as_members(ws):
    with Workspace.open(ws) as w:
        w.record_gateway_change("pay-api", "dual", GatewayMode.MTLS, "a" * 64, step_key=STEP)
        steps = w.steps()
        verdicts = w.verdicts(STEP)
        [change] = w.gateway_changes("pay-api")
    assert {type(s.state) for s in steps} == {StepState}
    assert [s.state for s in steps] == [StepState.ISSUED, StepState.CUT_OVER]  # mtls: regressed
    assert [v.verdict for v in verdicts] == [Verdict.FAIL, Verdict.PASS]
    assert all(type(v.verdict) is Verdict for v in verdicts)
    assert (change.from_mode, change.to_mode) == (GatewayMode.DUAL, GatewayMode.MTLS)
    assert type(change.from_mode) is GatewayMode and type(change.to_mode) is GatewayMode
    # stored as the very text it was before the members
    conn = sqlite3.connect(ws / "state.db")
    try:
        row = conn.execute("SELECT from_mode, to_mode, typeof(to_mode) FROM gateway_changes")
        assert row.fetchone() == ("dual", "mtls", "text")
    finally:
        conn.close()


def test_an_unknown_step_state_in_the_database_names_the_step_and_the_value(ws, capsys):
    unchecked(ws, f"UPDATE steps SET state = 'half_done' WHERE key = '{STEP}'")
    with Workspace.open(ws) as w, pytest.raises(WorkspaceError) as caught:
        w.step(STEP)
    message = str(caught.value)
    assert f"step {STEP} has state 'half_done' in the database" in message
    assert "planned, issued, dual, cut_over, verified, failed, rolled_back" in message

    assert main(["status", "--workspace", str(ws)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "'half_done'" in err and STEP in err

    assert main(["status", "--workspace", str(ws), "--json"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "'half_done'" in json.dumps(json.loads(out or err))

    # the command the message names reads the raw rows, and shows the edit
    assert main(["audit", "verify", "--workspace", str(ws)]) == 1
    assert "step pay-key is 'half_done' in the database" in capsys.readouterr().out


def test_an_unknown_verdict_or_mode_in_the_database_is_named(ws):
    unchecked(ws, "UPDATE verdicts SET verdict = 'MAYBE' WHERE id = 2")
    with Workspace.open(ws) as w, pytest.raises(WorkspaceError, match="'MAYBE'") as caught:
        w.verdicts(STEP)
    assert f"verdict 2 of step {STEP} has verdict 'MAYBE'" in str(caught.value)

    with Workspace.open(ws) as w:
        w.record_gateway_change("ledger-api", "key", "dual", "b" * 64)
    edit(ws, "UPDATE gateway_changes SET to_mode = 'mtls-only'")  # no CHECK on modes
    with Workspace.open(ws) as w, pytest.raises(WorkspaceError) as caught:
        w.gateway_changes()
    assert "gateway change 1 of API ledger-api has mode 'mtls-only'" in str(caught.value)
    assert "key, dual, mtls, mtls+token" in str(caught.value)


def test_an_unknown_mode_is_refused_before_anything_is_written(ws):
    with Workspace.open(ws) as w:
        before = len(w.audit_records())
        with pytest.raises(WorkspaceError, match=r"unknown gateway mode 'apikey': use one of key,"):
            w.record_gateway_change("pay-api", "apikey", "dual", "c" * 64, step_key=STEP)
        assert w.gateway_changes() == [] and len(w.audit_records()) == before
