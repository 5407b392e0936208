"""The workspace database schema (SQLite), versioned through the ``schema_version`` table.

Invariants the database enforces itself, so no caller can break them:
- at most one *active* certificate per (step, service, kind) (partial unique index, req. 26);
- the audit table is append-only (triggers refuse UPDATE and DELETE, req. 25);
- step states, certificate kinds/statuses and verdicts are closed vocabularies (CHECK);
- certificates, verdicts and gateway changes point at existing steps (foreign keys).
"""

from __future__ import annotations

import sqlite3

from workbench.errors import WorkspaceError

__all__ = ["SCHEMA_VERSION", "check_schema", "create_schema", "database_error"]

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE schema_version (version INTEGER NOT NULL);

CREATE TABLE workspace (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    inventory_path TEXT NOT NULL,
    inventory_sha256 TEXT NOT NULL,
    trust_domain TEXT NOT NULL,
    created_at TEXT NOT NULL,
    audit_jsonl_bytes INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE plan (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    plan_json TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    set_at TEXT NOT NULL
);

CREATE TABLE steps (
    key TEXT PRIMARY KEY,
    wave INTEGER NOT NULL,
    api TEXT,
    consumers TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN
        ('planned', 'issued', 'dual', 'cut_over', 'verified', 'failed', 'rolled_back')),
    reason TEXT,
    updated_at TEXT NOT NULL,
    cut_over_at TEXT,
    key_fingerprint TEXT,
    in_plan INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE certificates (
    serial TEXT PRIMARY KEY CHECK (serial GLOB '[0-9a-f]*' AND serial NOT GLOB '*[^0-9a-f]*'),
    step_key TEXT REFERENCES steps(key),
    service TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('client', 'server', 'ca')),
    spiffe_id TEXT,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    x5t_s256 TEXT NOT NULL,
    cert_path TEXT,
    key_path TEXT,
    chain_path TEXT,
    p12_path TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
    issued_at TEXT NOT NULL,
    revoked_at TEXT,
    reason TEXT
);
CREATE UNIQUE INDEX one_active_certificate
    ON certificates (coalesce(step_key, ''), service, kind) WHERE status = 'active';
CREATE INDEX certificates_by_step ON certificates (step_key, service);

CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('crl_number', 0);

CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    step_key TEXT NOT NULL REFERENCES steps(key),
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'INCONCLUSIVE', 'ERROR')),
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    old_key_fingerprint TEXT NOT NULL,
    evidence TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX verdicts_by_step ON verdicts (step_key, started_at);

CREATE TABLE gateway_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    api TEXT NOT NULL,
    from_mode TEXT NOT NULL,
    to_mode TEXT NOT NULL,
    config_sha256 TEXT NOT NULL,
    step_key TEXT REFERENCES steps(key),
    changed_at TEXT NOT NULL
);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table in an open transaction on an empty database."""
    for statement in _DDL.split(";\n"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))


def check_schema(conn: sqlite3.Connection, where: str) -> None:
    """Refuse a database this version does not understand (no migrations exist yet)."""
    try:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise database_error(exc, where) from None
    version = row[0] if row else None
    if version != SCHEMA_VERSION:
        raise WorkspaceError(
            f"workspace {where} has schema version {version}, this workbench reads "
            f"{SCHEMA_VERSION}: use a matching workbench version"
        )


def database_error(exc: sqlite3.DatabaseError, where: str | None = None) -> WorkspaceError:
    """The one-line error for a workspace database SQLite refuses: locked by another
    command, or damaged (garbage, truncated, a table missing). Users cause these (a copy
    made mid-write, a disk that filled up), so they get a message, never a traceback."""
    if "locked" in str(exc):
        who = f"workspace {where}" if where else "the workspace"
        return WorkspaceError(
            f"{who} is locked by another workbench command ({exc}): retry once it is done"
        )
    what = (
        f"workspace {where}: its database state.db" if where else "the workspace database state.db"
    )
    return WorkspaceError(
        f"{what} cannot be read ({exc}): restore state.db from a backup, or move the "
        "workspace away and run `workbench init`"
    )
