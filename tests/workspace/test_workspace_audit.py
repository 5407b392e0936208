"""Audit log (req. 25, 11): hash chain, mirror, tamper detection, same-transaction writes."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from workbench.cli import main
from workbench.errors import AuditError
from workbench.workspace import Workspace, verify_audit
from workbench.workspace.audit import SecretGuard

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PLAN = {"waves": [{"steps": [{"key": "k1", "api": "a"}, {"key": "k2", "api": "b"}]}]}


@pytest.fixture
def wsdir(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text("version: 1\n")
    d = tmp_path / "ws"
    with Workspace.create(d, inventory_path=inv, trust_domain="acme.test", now=T0) as ws:
        ws.set_plan(PLAN)
        ws.set_step_state("k1", "issued", reason="cert issued")
        ws.record_gateway_change("a", "key", "dual", "1" * 64, step_key="k1")
        ws.set_step_state("k1", "dual")
    return d


def _verify(wsdir, capsys):
    rc = main(["audit", "verify", "--workspace", str(wsdir), "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_intact_log_verifies(wsdir, capsys):
    rc, out = _verify(wsdir, capsys)
    assert rc == 0 and out["ok"] and out["count"] == 5
    assert out["first_broken_seq"] is None and len(out["head_hash"]) == 64
    lines = (wsdir / "audit.jsonl").read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3, 4, 5]


def _db(wsdir):
    conn = sqlite3.connect(wsdir / "state.db", isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")  # what an attacker with file access would do
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def test_db_rows_are_append_only(wsdir):
    conn = sqlite3.connect(wsdir / "state.db", isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit SET subject = 'x' WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit WHERE seq = 5")
    finally:
        conn.close()


def test_edited_db_row_is_detected_with_its_seq(wsdir, capsys):
    conn = _db(wsdir)
    conn.execute('UPDATE audit SET details = \'{"to":"cut_over"}\' WHERE seq = 3')
    conn.close()
    rc, out = _verify(wsdir, capsys)
    assert rc == 1 and not out["ok"] and out["first_broken_seq"] == 3
    assert out["first_broken_record"]["seq"] == 3


def test_rehashed_db_row_is_still_detected(wsdir, capsys):
    from workbench.workspace.audit import record_hash

    conn = _db(wsdir)
    seq, time, actor, action, subject, details, prev = conn.execute(
        "SELECT seq, time, actor, action, subject, details, prev_hash FROM audit WHERE seq = 2"
    ).fetchone()
    h = record_hash(seq, time, actor, action, "forged", json.loads(details), prev)
    conn.execute("UPDATE audit SET subject = 'forged', hash = ? WHERE seq = 2", (h,))
    conn.close()
    rc, out = _verify(wsdir, capsys)
    assert rc == 1 and out["first_broken_seq"] == 2  # the JSONL mirror and record 3 disagree


def test_deleted_db_row_is_detected(wsdir, capsys):
    conn = _db(wsdir)
    conn.execute("DELETE FROM audit WHERE seq = 4")
    conn.close()
    rc, out = _verify(wsdir, capsys)
    assert rc == 1 and out["first_broken_seq"] == 4


def test_edited_jsonl_line_is_detected_with_its_seq(wsdir, capsys):
    path = wsdir / "audit.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"plan.set"', b'"plan.sat"')
    path.write_bytes(b"".join(lines))
    rc, out = _verify(wsdir, capsys)
    assert rc == 1 and out["first_broken_seq"] == 2 and "line 2" in out["reason"]
    # human output names the first broken record too
    assert main(["audit", "verify", "--workspace", str(wsdir)]) == 1
    assert "first broken record: seq 2" in capsys.readouterr().out


def test_removed_jsonl_line_is_detected(wsdir, capsys):
    path = wsdir / "audit.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[2]
    path.write_bytes(b"".join(lines))
    rc, out = _verify(wsdir, capsys)
    assert rc == 1 and out["first_broken_seq"] == 3


def test_failing_audit_writer_rolls_the_change_back(wsdir):
    def broken_writer(path, data):
        raise OSError(28, "No space left on device")

    with Workspace.open(wsdir, audit_writer=broken_writer) as ws:
        with pytest.raises(AuditError, match="cannot write audit log.*nothing was changed"):
            ws.set_step_state("k1", "cut_over")
        with pytest.raises(AuditError):
            ws.record_gateway_change("a", "dual", "mtls", "2" * 64)
        assert ws.step("k1").state == "dual"
        assert len(ws.gateway_changes()) == 1
        assert len(ws.audit_records()) == 5
    with Workspace.open(wsdir) as ws:
        assert verify_audit(ws).ok
        ws.set_step_state("k1", "cut_over")  # works again once the log is writable
        assert verify_audit(ws).ok


FSIZE_CHILD = textwrap.dedent(
    """
    import os, resource, signal, sys
    from workbench.errors import AuditError
    from workbench.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    size = os.path.getsize(os.path.join(sys.argv[1], "audit.jsonl"))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10, size + 10))  # a full disk
    try:
        ws.set_step_state("k1", "cut_over")
    except AuditError as exc:
        print("refused:", exc)
    ws.close()
    """
)


def test_real_write_failure_rolls_back(wsdir):
    proc = subprocess.run(
        [sys.executable, "-c", FSIZE_CHILD, str(wsdir)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "refused: cannot write audit log" in proc.stdout
    with Workspace.open(wsdir) as ws:
        assert ws.step("k1").state == "dual"
        check = verify_audit(ws)
        assert check.ok and check.count == 5, check


def test_secret_in_details_is_refused_and_nothing_changes(wsdir):
    with Workspace.open(wsdir) as ws:
        ws.guard.forbid("CANARY-7f3a9d")
        with pytest.raises(AuditError, match="registered secret") as info:
            ws.set_step_state("k1", "cut_over", reason="old key was CANARY-7f3a9d")
        assert "CANARY" not in str(info.value)
        assert ws.step("k1").state == "dual"
    assert b"CANARY" not in (wsdir / "audit.jsonl").read_bytes()
    assert b"CANARY" not in (wsdir / "state.db").read_bytes()


CRASH_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from workbench.workspace import Workspace
    from workbench.workspace.store import _append_fsync
    def write_then_die(path, data):
        _append_fsync(path, data)
        os.kill(os.getpid(), signal.SIGKILL)  # after the JSONL append, before COMMIT
    ws = Workspace.open(sys.argv[1], audit_writer=write_then_die)
    ws.set_step_state("k1", "cut_over")
    """
)


def test_crash_between_jsonl_append_and_commit(wsdir, capsys):
    proc = subprocess.run([sys.executable, "-c", CRASH_CHILD, str(wsdir)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    with Workspace.open(wsdir) as ws:
        assert ws.step("k1").state == "dual"  # the change did not happen
        check = verify_audit(ws)
        assert check.ok and check.notes and "uncommitted" in check.notes[0]
        ws.set_step_state("k1", "cut_over")  # the next write moves the dangling line aside
        actions = [r.action for r in ws.audit_records()]
        assert actions[-2:] == ["audit.repair", "step.state"]
        check = verify_audit(ws)
        assert check.ok and not check.notes and check.count == 7
    moved = (wsdir / "audit.jsonl.uncommitted").read_text().splitlines()
    assert len(moved) == 1 and json.loads(moved[0])["seq"] == 6
    assert os.stat(wsdir / "audit.jsonl.uncommitted").st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "details",
    [
        {"key": "-----BEGIN EC PRIV" + "ATE KEY-----\nMHcCAQEE..."},
        {"token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},
        {"k": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
        {"nested": [{"v": "Zx8Qp2Lm9Rt4Wv7Yb1Nc5Hd3Kf6Jg0Ts"}]},
        {"AKIAIOSFODNN7EXAMPLE": 1},
    ],
)
def test_guard_refuses_secret_shapes(details):
    with pytest.raises(AuditError, match="looks like a secret"):
        SecretGuard().check(details)


def test_guard_allows_public_identifiers():
    SecretGuard().check(
        {
            "sha256": "ab" * 32,
            "x5t_s256": "BimEMugGayniIjvMI6qVBLVq5Qj6vzQ1UIhpucMZDiI",
            "old_key_fingerprint": "0123456789ab",
            "serial": "5f3a0c9e1d2b4a6f8e7d",
            "spiffe_id": "spiffe://acme.test/ns/payments/sa/checkout-web",
            "url": "https://127.0.0.1:8443/payments-api/health",
            "reason": "superseded by 5f3a0c9e1d2b4a6f8e7d",
            "config": "/work/ws/gateways/payments-api/nginx.conf",
        }
    )


def test_show_lists_records(wsdir, capsys):
    assert main(["audit", "show", "--workspace", str(wsdir), "--json", "--limit", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in out] == [4, 5]
    assert main(["audit", "show", "--workspace", str(wsdir)]) == 0
    text = capsys.readouterr().out
    assert "workspace.create" in text and "gateway.change" in text


def test_commands_without_workspace_exit_2(tmp_path, capsys):
    for cmd in (["audit", "verify"], ["audit", "show"]):
        assert main([*cmd, "--workspace", str(tmp_path / "none")]) == 2
        err = capsys.readouterr().err
        assert "no workspace at" in err and "workbench init" in err and "Traceback" not in err


def test_bad_limit_is_a_usage_error(wsdir, capsys):
    with pytest.raises(SystemExit) as info:
        main(["audit", "show", "--workspace", str(wsdir), "--limit", "0"])
    assert info.value.code == 2


def test_help_for_every_audit_command(capsys):
    for cmd in (["audit"], ["audit", "verify"], ["audit", "show"]):
        with pytest.raises(SystemExit) as info:
            main([*cmd, "--help"])
        assert info.value.code == 0
        assert capsys.readouterr().out.strip()


def test_audit_verify_in_a_real_subprocess(wsdir):
    path = wsdir / "audit.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "audit", "verify", "--workspace", str(wsdir)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "audit OK" in proc.stdout
    path.write_bytes(path.read_bytes().replace(b'"k1"', b'"k9"', 1))
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "audit", "verify", "--workspace", str(wsdir)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "BROKEN" in proc.stdout


def test_a_batch_reads_repeated_fields_once_and_still_refuses_every_secret(wsdir):
    """audit_many remembers clean (field, text) pairs within the batch, never a refusal."""
    secret = "ghp_" + "q7Z9" * 9
    with Workspace.open(wsdir) as ws:
        count = len(ws.audit_records())
        ws.guard.forbid("canary-value-42")
        batches = [
            [
                ("t.a", "x", {"step": "k", "note": "fine"}),
                ("t.a", "y", {"step": "k", "tok": secret}),
            ],
            [("t.a", "x", {"note": "fine"}), ("t.a", "y", {"note": "fine canary-value-42"})],
            [("t.a", "x", {"note": "fine"}), ("t.a", "y", {secret: "as a field name"})],
        ]
        for batch in batches:
            with pytest.raises(AuditError, match="looks like a secret"), ws.transaction():
                ws.audit_many(batch)
        assert len(ws.audit_records()) == count  # all or nothing
        with ws.transaction():
            ws.audit_many([("t.a", s, {"step": "k", "kind": "client"}) for s in "abc"])
        assert len(ws.audit_records()) == count + 3 and verify_audit(ws).ok
