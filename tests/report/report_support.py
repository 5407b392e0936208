"""Helpers for the report tests (imported by name, not conftest)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEAM_INVENTORY = HERE / "team_inventory.yaml"

NO_KEYS = """\
version: 1
trust_domain: empty.example
apis:
  - id: lonely-api
    url: https://lonely.example/
    data_classes: [internal]
    owner: team-a
    environment: prod
services: []
keys: []
integrations: []
"""

ORPHAN_ONLY = """\
version: 1
apis:
  - id: one-api
    url: https://one.example/x
    data_classes: [pii]
    owner: team-one
    environment: prod
services:
  - id: nobody
    owner: team-one
    environment: prod
    exposure: internal
keys:
  - id: unused-key
    api: one-api
    secret_ref: env:UNUSED_KEY
integrations: []
"""


def rehearsed(directory: Path, inventory: Path | None, *, drill: bool = False) -> Path:
    import workbench as wb

    return wb.rehearse(inventory, directory, drill=drill)


def db_rows(workspace: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Read the workspace database directly: an independent check of what the core reports."""
    conn = sqlite3.connect(f"file:{workspace / 'state.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def key_values(workspace: Path) -> list[str]:
    """Every old-key value the rehearsal's lab generated (for leak checks)."""
    keys = workspace.parent / "state" / "keys"
    return [p.read_text().strip() for p in sorted(keys.glob("*.key"))]
