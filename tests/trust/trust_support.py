"""A small real workspace for the trust tests: init, certificates, step states, verdicts.

Built once per module through the CLI and the core (no mocks), then copied per test so a
test can tamper with its own copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

PASSPHRASE = "trust-support-passphrase"
STEP = "pay-key"
INVENTORY = """\
version: 1
trust_domain: acme.test
apis:
  - id: pay-api
    url: https://127.0.0.1:18443/pay-api
    health_path: /health
    data_classes: [pci]
    owner: team-pay
    environment: prod
  - id: ledger-api
    url: https://127.0.0.1:18443/ledger-api
    data_classes: [internal]
    owner: team-ledger
    environment: prod
services:
  - {id: shop-web, owner: team-web, environment: prod, exposure: internet}
  - {id: billing-svc, owner: team-pay, environment: prod, exposure: internal}
keys:
  - {id: pay-key, api: pay-api, secret_ref: "env:TRUST_PAY_KEY"}
  - {id: ledger-key, api: ledger-api, secret_ref: "env:TRUST_LEDGER_KEY"}
integrations:
  - {consumer: shop-web, key: pay-key}
  - {consumer: billing-svc, key: ledger-key}
"""
FP = hashlib.sha256(b"not-the-real-key").hexdigest()[:12]


def build_workspace(base: Path) -> Path:
    """An initialised workspace with certificates, a FAIL then a PASS, a revoked cert."""
    from workbench.cli import main
    from workbench.migration import issue_step, open_campaign, revoke

    inv = base / "inventory.yaml"
    inv.write_text(INVENTORY)
    ws_dir = base / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
        assert main(["init", str(inv), "--workspace", str(ws_dir)]) == 0
    with open_campaign(ws_dir, passphrase=lambda: PASSPHRASE) as c:
        issue_step(c, STEP, durable=False)
        issue_step(c, "ledger-key", durable=False)
        ws = c.workspace
        for state in ("issued", "dual", "cut_over"):
            ws.set_step_state(STEP, state)
        t0 = datetime.now(UTC)
        for verdict, start in (("FAIL", t0), ("PASS", t0 + timedelta(seconds=2))):
            end = start + timedelta(seconds=1)
            evidence = {"verdict": verdict, "probes": [], "reasons": [],
                        "started": start.isoformat(), "finished": end.isoformat()}  # fmt: skip
            ws.record_verdict(STEP, verdict, started_at=start, finished_at=end,
                              old_key_fingerprint=FP, evidence=evidence)  # fmt: skip
        ws.set_step_state(STEP, "verified")
        revoke(c, service="billing-svc", reason="keyCompromise")
    return ws_dir


def copy_workspace(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def sql(ws_dir: Path, *statements: str, params: tuple = ()) -> None:
    """Edit state.db as an attacker with file access would (triggers dropped first)."""
    conn = sqlite3.connect(ws_dir / "state.db")
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        for s in statements:
            conn.execute(s, params)
        conn.commit()
    finally:
        conn.close()


def cut_chain(ws_dir: Path, keep: int) -> None:
    """Delete every record after ``keep`` in the database and audit.jsonl, consistently."""
    sql(ws_dir, f"DELETE FROM audit WHERE seq > {int(keep)}")  # noqa: S608
    jsonl = ws_dir / "audit.jsonl"
    lines = jsonl.read_bytes().splitlines(keepends=True)[:keep]
    data = b"".join(lines)
    jsonl.write_bytes(data)
    sql(ws_dir, "UPDATE workspace SET audit_jsonl_bytes = ?", params=(len(data),))


def head(ws_dir: Path) -> tuple[int, str]:
    conn = sqlite3.connect(ws_dir / "state.db")
    try:
        return conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def rewrite_last(ws_dir: Path) -> None:
    """Replace the last record with a different one and re-chain it (a forged history)."""
    from workbench.workspace.audit import canonical_json, record_hash

    conn = sqlite3.connect(ws_dir / "state.db")
    try:
        seq, time, actor, action, subject, details, prev = conn.execute(
            "SELECT seq, time, actor, action, subject, details, prev_hash FROM audit "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    new_details = {**json.loads(details), "forged": True}
    digest = record_hash(seq, time, actor, action, subject, new_details, prev)
    sql(
        ws_dir,
        "UPDATE audit SET details = ?, hash = ? WHERE seq = ?",
        params=(canonical_json(new_details), digest, seq),
    )
    jsonl = ws_dir / "audit.jsonl"
    lines = jsonl.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[-1])
    record.update(details=new_details, hash=digest)
    lines[-1] = (canonical_json(record) + "\n").encode()
    data = b"".join(lines)
    jsonl.write_bytes(data)
    sql(ws_dir, "UPDATE workspace SET audit_jsonl_bytes = ?", params=(len(data),))
