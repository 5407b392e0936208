"""Drill results in the workspace: two tables, one audit record per drill.

``drills`` holds one row per drill run::

    id              INTEGER  row id (the drill's number)
    kind            TEXT     'revoke' | 'canary' | 'kill-key'
    subject         TEXT     the service, the canary identity, or the step
    verdict         TEXT     'PASS' | 'FAIL' | 'ERROR'
    started_at      TEXT     ISO 8601 UTC (the revocation's t0)
    finished_at     TEXT     ISO 8601 UTC
    deadline_s      REAL     the deadline the drill ran with
    slowest_s       REAL     the slowest entry point's time-to-refusal (NULL: none refused)
    evidence        TEXT     the whole report as JSON (see workbench.drill.DrillReport)
    evidence_sha256 TEXT     SHA-256 of ``evidence``; the audit record names it
    audit_seq       INTEGER  the audit record (action ``drill.<kind>``) that binds the row
    recorded_at     TEXT

``drill_gateways`` holds the figures a program report needs, one row per drill and gateway::

    drill_id     INTEGER  drills.id
    gateway      TEXT     gateway id ('lab' for the workspace's managed gateway)
    kind         TEXT     'lab' | 'nginx' | 'haproxy' | 'manual'
    server       TEXT     the software answering: 'python' | 'nginx' | 'haproxy' | 'manual'
    entry_points INTEGER  entry point addresses probed behind it
    refused      INTEGER  how many of them refused every revoked credential in time
    median_s     REAL     median time-to-refusal (s) over those entry points (NULL: none)
    worst_s      REAL     worst time-to-refusal (s) (NULL: none)
    push_s       REAL     how long the CRL push (write + validate + reload) took (NULL: failed)

Time-to-refusal is measured from the moment the revocation started to the first refusal of
the run of refusals that stayed (``stable_after`` probes in a row, each on a fresh TLS
connection). :func:`drill_figures` reads the latest figures per gateway. The tables are
created with the first drill, so workspaces made before drills existed need no migration.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from workbench.drill.runner import DrillReport
from workbench.errors import InputError
from workbench.jsonable import to_jsonable
from workbench.workspace import Workspace

__all__ = ["DRILL_KINDS", "drill_figures", "get_drill", "list_drills", "record_drill"]

DRILL_KINDS = ("revoke", "canary", "kill-key")

_DDL = (
    """CREATE TABLE IF NOT EXISTS drills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('revoke', 'canary', 'kill-key')),
    subject TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'ERROR')),
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    deadline_s REAL NOT NULL,
    slowest_s REAL,
    evidence TEXT NOT NULL,
    evidence_sha256 TEXT NOT NULL,
    audit_seq INTEGER NOT NULL,
    recorded_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS drill_gateways (
    drill_id INTEGER NOT NULL REFERENCES drills(id),
    gateway TEXT NOT NULL,
    kind TEXT NOT NULL,
    server TEXT NOT NULL,
    entry_points INTEGER NOT NULL,
    refused INTEGER NOT NULL,
    median_s REAL,
    worst_s REAL,
    push_s REAL,
    PRIMARY KEY (drill_id, gateway))""",
)


def _iso(dt) -> str:
    return dt.isoformat(timespec="microseconds")


def report_document(report: DrillReport) -> dict:
    """The report as plain JSON (what ``--json`` prints and ``evidence`` stores)."""
    doc = to_jsonable(report)
    doc["timings"] = [dict(to_jsonable(t), refused=t.refused) for t in report.timings]
    doc["slowest"] = report.slowest
    doc["reasons"] = list(report.reasons)
    return doc


def record_drill(ws: Workspace, report: DrillReport) -> DrillReport:
    """Store the report and its per-gateway figures, audited in the same transaction."""
    from dataclasses import replace

    doc = report_document(report)
    doc.pop("id", None)
    ws.guard.check(doc, what="drill evidence")
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    sha = hashlib.sha256(text.encode()).hexdigest()
    slowest = report.slowest
    with ws.transaction():
        conn = ws.connection
        for statement in _DDL:
            conn.execute(statement)
        record = ws.audit(
            f"drill.{report.kind.replace('-', '_')}",
            report.subject,
            {
                "verdict": report.verdict,
                "evidence_sha256": sha,
                "revoked": list(report.revoked),
                "crl_number": report.crl_number,
                "deadline_s": report.deadline_s,
                "slowest_s": slowest["stable_s"] if slowest else None,
                "reasons": list(report.reasons)[:20],
                "gateways": [
                    {k: g.get(k) for k in ("id", "kind", "server", "median_s", "worst_s")}
                    for g in report.gateways
                ],
            },
        )
        cur = conn.execute(
            "INSERT INTO drills (kind, subject, verdict, started_at, finished_at, deadline_s, "
            "slowest_s, evidence, evidence_sha256, audit_seq, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                report.kind,
                report.subject,
                report.verdict,
                _iso(report.started_at),
                _iso(report.finished_at),
                report.deadline_s,
                slowest["stable_s"] if slowest else None,
                text,
                sha,
                record.seq,
                _iso(ws.now()),
            ),
        )
        drill_id = int(cur.lastrowid)
        for g in report.gateways:
            mine = [e for e in report.entry_points if e["gateway"] == g["id"]]
            conn.execute(
                "INSERT INTO drill_gateways (drill_id, gateway, kind, server, entry_points, "
                "refused, median_s, worst_s, push_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    drill_id,
                    g["id"],
                    g["kind"],
                    g["server"],
                    len(mine),
                    sum(1 for e in mine if e["refused"]),
                    g.get("median_s"),
                    g.get("worst_s"),
                    g.get("push_s"),
                ),
            )
    return replace(report, id=drill_id)


def _rows(ws: Workspace, sql: str, params=()) -> list[sqlite3.Row]:
    try:
        return list(ws.connection.execute(sql, params))
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # no drill has run in this workspace yet
        raise


def list_drills(ws: Workspace, *, kind: str | None = None) -> list[dict]:
    """Every drill, oldest first: id, kind, subject, verdict, times, slowest_s."""
    sql = (
        "SELECT id, kind, subject, verdict, started_at, finished_at, deadline_s, slowest_s, "
        "evidence_sha256, audit_seq FROM drills"
    )
    params: tuple = ()
    if kind is not None:
        sql += " WHERE kind = ?"
        params = (kind,)
    return [dict(r) for r in _rows(ws, sql + " ORDER BY id", params)]


def get_drill(ws: Workspace, drill_id: int | None = None) -> dict:
    """One drill's stored report (the latest when ``drill_id`` is None), with its id."""
    if drill_id is None:
        rows = _rows(ws, "SELECT id, evidence FROM drills ORDER BY id DESC LIMIT 1")
    else:
        rows = _rows(ws, "SELECT id, evidence FROM drills WHERE id = ?", (drill_id,))
    if not rows:
        known = [str(d["id"]) for d in list_drills(ws)]
        hint = f"known drills: {', '.join(known[-10:])}" if known else "no drill has run yet"
        what = "no drill" if drill_id is None else f"no drill {drill_id}"
        raise InputError(f"{what} in this workspace ({hint}): run `workbench drill canary`")
    doc = json.loads(rows[0]["evidence"])
    doc["id"] = rows[0]["id"]
    return doc


def drill_figures(ws: Workspace, *, kind: str | None = None) -> list[dict]:
    """Per drill and gateway: the figures a program report charts (median and worst
    time-to-refusal), oldest first. ``kind`` filters (e.g. ``canary`` for scheduled runs)."""
    sql = (
        "SELECT d.id AS drill_id, d.kind AS drill_kind, d.verdict, d.started_at, "
        "g.gateway, g.kind, g.server, g.entry_points, g.refused, g.median_s, g.worst_s, "
        "g.push_s FROM drills d JOIN drill_gateways g ON g.drill_id = d.id"
    )
    params: tuple = ()
    if kind is not None:
        sql += " WHERE d.kind = ?"
        params = (kind,)
    return [dict(r) for r in _rows(ws, sql + " ORDER BY d.id, g.gateway", params)]
