"""Requirement 31: the state is bound to its audit chain; exports name the chain head.

Every attack here is the one issue 11 reproduced, done on a copy of a real workspace the
way someone with write access to its files would: rows edited with SQL (the append-only
triggers dropped first), records deleted and the chain left consistent, the last record
rewritten and re-hashed.
"""

from __future__ import annotations

import json

import pytest
from trust_support import STEP, cut_chain, head, rewrite_last
from trust_support import sql as edit

from workbench.cli import main


def verify(ws, capsys, *extra: str) -> tuple[int, dict]:
    rc = main(["audit", "verify", "--workspace", str(ws), "--json", *extra])
    return rc, json.loads(capsys.readouterr().out)


def test_an_untouched_workspace_verifies_with_its_head_as_anchor(ws, capsys):
    seq, digest = head(ws)
    rc, doc = verify(ws, capsys, "--anchor", f"{seq}:{digest}", "--anchor", f"1:{head_of(ws, 1)}")
    assert rc == 0 and doc["ok"] and doc["state"]["ok"] and doc["anchor_lost"] is None
    assert main(["audit", "verify", "--workspace", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "state OK" in out and "audit OK" in out


def head_of(ws, seq: int) -> str:
    import sqlite3

    conn = sqlite3.connect(ws / "state.db")
    try:
        return conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
    finally:
        conn.close()


def test_a_fail_edited_into_a_pass_is_reported(ws, capsys):
    edit(ws, "UPDATE verdicts SET verdict = 'PASS' WHERE verdict = 'FAIL'")
    rc, doc = verify(ws, capsys)
    assert rc == 1 and doc["chain_ok"] and not doc["ok"]
    assert doc["state"]["table"] == "verdicts" and doc["state"]["row"] == "1"
    assert "says PASS, the audit chain records FAIL" in doc["state"]["reason"]


def test_a_step_set_to_verified_by_hand_is_reported(ws, capsys):
    edit(ws, "UPDATE steps SET state = 'verified' WHERE key = 'ledger-key'")
    rc, doc = verify(ws, capsys)
    assert rc == 1
    assert (doc["state"]["table"], doc["state"]["row"]) == ("steps", "ledger-key")
    assert "'verified' in the database, the audit chain records 'issued'" in doc["state"]["reason"]
    assert main(["audit", "verify", "--workspace", str(ws)]) == 1
    assert "state MISMATCH" in capsys.readouterr().out


EDIT_EVIDENCE = (
    "UPDATE verdicts SET evidence = replace(evidence, '\"probes\":[]', '\"probes\":[1]') "
    "WHERE id = 2"
)


@pytest.mark.parametrize(
    ("statement", "table", "words"),
    [
        (EDIT_EVIDENCE, "verdicts", "evidence differs"),
        ("UPDATE verdicts SET started_at = '2099-01-01T00:00:00.000000+00:00' WHERE id = 1",
         "verdicts", "started_at differs"),
        ("DELETE FROM verdicts WHERE id = 1", "verdicts", "gone from the database"),
        ("INSERT INTO verdicts (step_key, verdict, started_at, finished_at, old_key_fingerprint,"
         " evidence, recorded_at) SELECT step_key, 'PASS', started_at, finished_at,"
         " old_key_fingerprint, evidence, recorded_at FROM verdicts WHERE id = 1",
         "verdicts", "not recorded in the audit chain"),
        ("UPDATE certificates SET status = 'active', revoked_at = NULL WHERE status = 'revoked'",
         "certificates", "audit chain records 'revoked'"),
        ("UPDATE certificates SET service = 'billing-svc' WHERE service = 'shop-web'",
         "certificates", "service differs"),
    ],
)  # fmt: skip
def test_row_edits_are_reported_with_the_first_row(ws, capsys, statement, table, words):
    edit(ws, statement)
    rc, doc = verify(ws, capsys)
    assert rc == 1 and doc["chain_ok"]
    assert doc["state"]["table"] == table and words in doc["state"]["reason"]


def test_a_cut_chain_verifies_alone_but_not_against_the_exported_anchor(ws, capsys):
    seq, digest = head(ws)
    cut_chain(ws, seq - 3)  # the revocation and the "verified" step records are gone
    edit(ws, f"UPDATE steps SET state = 'cut_over' WHERE key = '{STEP}'")  # state agrees again
    edit(ws, "UPDATE certificates SET status = 'active', revoked_at = NULL, reason = NULL")
    rc, doc = verify(ws, capsys)
    assert rc == 0, doc  # the attack of issue 11: without an anchor nothing shows
    rc, doc = verify(ws, capsys, "--anchor", f"{seq}:{digest}")
    assert rc == 1 and doc["anchor_lost"]["anchor"] == f"{seq}:{digest}"
    assert f"record {seq} is gone" in doc["anchor_lost"]["reason"]
    assert main(["audit", "verify", "--workspace", str(ws), "--anchor", f"{seq}:{digest}"]) == 1
    assert f"anchor LOST: {seq}:" in capsys.readouterr().out


def test_a_rewritten_last_record_fails_its_anchor(ws, capsys):
    seq, digest = head(ws)
    rewrite_last(ws)
    rc, doc = verify(ws, capsys)
    assert rc == 0  # re-chained: consistent on its own
    rc, doc = verify(ws, capsys, "--anchor", f"{seq}:{digest}")
    assert rc == 1 and "rewritten" in doc["anchor_lost"]["reason"]


def test_a_malformed_anchor_is_a_usage_error(ws, capsys):
    with pytest.raises(SystemExit) as info:
        main(["audit", "verify", "--workspace", str(ws), "--anchor", "12:nothex"])
    assert info.value.code == 2
    assert "is not SEQ:HASH" in capsys.readouterr().err


def test_every_export_names_the_chain_head(ws, capsys, tmp_path):
    seq, digest = head(ws)
    anchor = f"{seq}:{digest}"
    assert main(["status", "--workspace", str(ws), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["audit_head"] == {
        "seq": seq, "hash": digest, "anchor": anchor,
    }  # fmt: skip
    assert main(["status", "--workspace", str(ws)]) == 0
    assert anchor in capsys.readouterr().out
    assert main(["evidence", "--step", STEP, "--workspace", str(ws), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["audit_head"]["anchor"] == anchor
    assert main(["evidence", "--step", STEP, "--all", "--workspace", str(ws), "--json"]) == 0
    assert {d["audit_head"]["anchor"] for d in json.loads(capsys.readouterr().out)} == {anchor}
    for fmt in ("md", "yaml", "json", "csv"):
        out = tmp_path / fmt
        argv = ["export", "playbook", "--step", STEP, "--format", fmt, "-o", str(out)]
        assert main([*argv, "--workspace", str(ws)]) == 0, capsys.readouterr().err
        capsys.readouterr()
        texts = [p.read_text() for p in out.rglob("*") if p.is_file()]
        assert texts and all(anchor in t for t in texts), fmt  # tickets and wave summaries
    argv = ["export", "playbook", "--all", "--json", "-o", str(tmp_path / "all")]
    assert main([*argv, "--workspace", str(ws)]) == 0
    assert json.loads(capsys.readouterr().out)["audit_head"]["anchor"] == anchor
    doc = json.loads(next((tmp_path / "json").rglob(f"*{STEP}*.json")).read_text())
    assert doc["evidence"]["audit_head"] == {"seq": seq, "hash": digest, "anchor": anchor}
