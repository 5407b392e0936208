"""The workspace: a 0700 directory holding ``state.db`` (SQLite, WAL) and ``audit.jsonl``.

One connection per :class:`Workspace`. Every mutating method runs inside
``with ws.transaction():`` (``BEGIN IMMEDIATE`` ... ``COMMIT``; it opens one itself when the
caller has not) and appends its audit record in that same transaction: the JSONL line is
written and flushed before ``COMMIT``, so a failed audit write rolls the change back
(req. 25). Nested ``transaction()`` blocks join the outer one.

A crash after the JSONL append but before ``COMMIT`` leaves lines past the committed length
(``workspace.audit_jsonl_bytes``); the next transaction moves them to
``audit.jsonl.uncommitted`` and records an ``audit.repair``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import AuditError, WorkspaceError
from workbench.fsio import append_durable, create_private_file, fsync_dir
from workbench.workspace import schema
from workbench.workspace.audit import (
    ACTION_PATTERN,
    GENESIS_HASH,
    AuditRecord,
    SecretGuard,
    chained_record,
    default_actor,
    iso,
    read_records,
)
from workbench.workspace.certs import CertificatesMixin
from workbench.workspace.paths import ensure_private_dir
from workbench.workspace.records import WorkspaceInfo, parse_time
from workbench.workspace.steps import StepsMixin

__all__ = ["AUDIT_FILE", "DB_FILE", "Workspace"]

DB_FILE = "state.db"
AUDIT_FILE = "audit.jsonl"
UNCOMMITTED_FILE = "audit.jsonl.uncommitted"

Clock = Callable[[], datetime]
AuditWriter = Callable[[Path, bytes], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


# The audit JSONL's writes (0600, no symlinks, fsynced) are workbench.fsio's.
_append_fsync = append_durable
_create_private_file = create_private_file


class Workspace(StepsMixin, CertificatesMixin):
    """Open workspace state. Use :meth:`create` or :meth:`open`; close with :meth:`close`.

    Plan, steps and verdicts: see :class:`StepsMixin`; certificates, CRL numbers and
    gateway changes: see :class:`CertificatesMixin`.
    """

    def __init__(
        self,
        directory: Path,
        conn: sqlite3.Connection,
        *,
        clock: Clock = _utcnow,
        actor: str | None = None,
        audit_writer: AuditWriter = _append_fsync,
    ) -> None:
        self.directory = directory
        self.connection = conn
        self.clock = clock
        self.actor = actor or default_actor()
        self.guard = SecretGuard(base=directory)
        self._audit_writer = audit_writer
        self._depth = 0
        self._pending_lines: list[bytes] = []
        self._rollback_actions: list[Callable[[], None]] = []
        self._schema_ready = True
        self._real_directory: Path | None = None

    # --- lifecycle ----------------------------------------------------------------------

    @staticmethod
    def _connect(db: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(db, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        *,
        inventory_path: str | os.PathLike[str],
        trust_domain: str,
        now: datetime | None = None,
        clock: Clock = _utcnow,
        actor: str | None = None,
        audit_writer: AuditWriter = _append_fsync,
    ) -> Workspace:
        """Create a new workspace in ``directory`` (made 0700) and audit ``workspace.create``."""
        d = Path(directory)
        if (d / DB_FILE).exists():
            raise WorkspaceError(
                f"a workspace already exists at {d}: use it, or choose another dir"
            )
        try:
            inventory_sha = hashlib.sha256(Path(inventory_path).read_bytes()).hexdigest()
        except OSError as exc:
            raise WorkspaceError(
                f"cannot read inventory {inventory_path}: {exc.strerror}"
            ) from None
        ensure_private_dir(d)
        _create_private_file(d / DB_FILE)  # sqlite gives -wal/-shm the same mode
        _create_private_file(d / AUDIT_FILE)
        conn = cls._connect(d / DB_FILE)
        ws = cls(d, conn, clock=clock, actor=actor, audit_writer=audit_writer)
        ws._schema_ready = False
        at = now or clock()
        try:
            with ws.transaction():
                schema.create_schema(ws.connection)
                ws.connection.execute(
                    "INSERT INTO workspace (id, inventory_path, inventory_sha256, trust_domain,"
                    " created_at) VALUES (1, ?, ?, ?, ?)",
                    (str(inventory_path), inventory_sha, trust_domain, iso(at)),
                )
                ws.audit(
                    "workspace.create",
                    trust_domain,
                    {"inventory": str(inventory_path), "inventory_sha256": inventory_sha},
                    now=at,
                )
        except BaseException:
            ws.close()
            for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", AUDIT_FILE):
                (d / name).unlink(missing_ok=True)
            raise
        ws._schema_ready = True
        fsync_dir(d)
        return ws

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        *,
        clock: Clock = _utcnow,
        actor: str | None = None,
        audit_writer: AuditWriter = _append_fsync,
    ) -> Workspace:
        """Open an existing workspace; a clear WorkspaceError when there is none."""
        d = Path(directory)
        if not (d / DB_FILE).is_file():
            raise WorkspaceError(f"no workspace at {d}: run `workbench init INVENTORY` first")
        if (d / DB_FILE).is_symlink() or d.is_symlink():
            raise WorkspaceError(f"workspace {d} is reached through a symlink: open the real path")
        try:
            conn = cls._connect(d / DB_FILE)  # its PRAGMAs already read the file
        except sqlite3.DatabaseError as exc:
            raise schema.database_error(exc, str(d)) from None
        try:
            schema.check_schema(conn, str(d))
        except BaseException:
            conn.close()
            raise
        return cls(d, conn, clock=clock, actor=actor, audit_writer=audit_writer)

    def close(self) -> None:
        """Close the database connection."""
        self.connection.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def real_directory(self) -> Path:
        """The workspace directory with symlinks resolved, computed once per open workspace.

        Paths below it are checked link by link (``safe_join``); the directory itself may be
        reached through links (e.g. ``/tmp`` on macOS). Resolving it again for every file of
        a bulk issuance cost ~25 us per certificate.
        """
        if self._real_directory is None:
            self._real_directory = self.directory.resolve()
        return self._real_directory

    @property
    def audit_jsonl_path(self) -> Path:
        return self.directory / AUDIT_FILE

    def now(self, now: datetime | None = None) -> datetime:
        """``now`` if given, else the workspace clock."""
        return now if now is not None else self.clock()

    def info(self) -> WorkspaceInfo:
        """Workspace metadata."""
        row = self.connection.execute("SELECT * FROM workspace WHERE id = 1").fetchone()
        return WorkspaceInfo(
            inventory_path=row["inventory_path"],
            inventory_sha256=row["inventory_sha256"],
            trust_domain=row["trust_domain"],
            created_at=parse_time(row["created_at"]),  # type: ignore[arg-type]
            schema_version=schema.SCHEMA_VERSION,
        )

    # --- transactions and audit ---------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Workspace]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; audit lines are written just before COMMIT."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise WorkspaceError(f"workspace {self.directory} is locked ({exc}): retry") from None
        self._depth = 1
        self._pending_lines = []
        self._rollback_actions = []
        written_from: int | None = None
        try:
            self._move_uncommitted_tail()
            yield self
            if self._pending_lines:
                written_from = self._write_pending_lines()
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            if written_from is not None:
                self._truncate_jsonl(written_from)
            for action in reversed(self._rollback_actions):
                with suppress(OSError):
                    action()
            raise
        finally:
            self._depth = 0
            self._pending_lines = []
            self._rollback_actions = []

    def on_rollback(self, action: Callable[[], None]) -> None:
        """Run ``action`` if the current transaction rolls back (e.g. remove files it wrote).

        Actions run after ``ROLLBACK``, newest first; an ``OSError`` from one is ignored (a
        file left behind is an orphan that the next issuance or ``remove_orphans`` sweeps).
        """
        self._require_transaction()
        self._rollback_actions.append(action)

    @contextmanager
    def savepoint(self) -> Iterator[Workspace]:
        """A nested all-or-nothing block inside the current transaction.

        On an exception its database changes and its pending audit lines are undone and the
        exception propagates; the enclosing transaction stays usable. Without this, a caller
        that catches an error from a nested ``transaction()`` and commits would keep half of
        a bulk change.
        """
        self._require_transaction()
        mark = len(self._pending_lines)
        self.connection.execute("SAVEPOINT workbench_bulk")
        try:
            yield self
        except BaseException:
            self.connection.execute("ROLLBACK TO workbench_bulk")
            self.connection.execute("RELEASE workbench_bulk")
            del self._pending_lines[mark:]
            raise
        self.connection.execute("RELEASE workbench_bulk")

    def _require_transaction(self) -> None:
        if not self._depth:
            raise WorkspaceError("internal: a workspace change must run inside ws.transaction()")

    def audit_jsonl_committed_bytes(self) -> int:
        """Length of ``audit.jsonl`` as of the last committed transaction."""
        row = self.connection.execute("SELECT audit_jsonl_bytes FROM workspace").fetchone()
        return int(row[0]) if row else 0

    def _write_pending_lines(self) -> int:
        """Append pending lines; record the new committed length; return the old length."""
        data = b"".join(self._pending_lines)
        start = self.audit_jsonl_committed_bytes()
        try:
            size = os.lstat(self.audit_jsonl_path).st_size
        except OSError as exc:
            raise AuditError(
                f"audit log {self.audit_jsonl_path} unusable ({exc.strerror})"
            ) from None
        if size != start:
            raise AuditError(
                f"audit log {self.audit_jsonl_path} is {size} bytes, expected {start}: "
                "run `workbench audit verify`"
            )
        self.connection.execute(
            "UPDATE workspace SET audit_jsonl_bytes = ? WHERE id = 1", (start + len(data),)
        )
        try:
            self._audit_writer(self.audit_jsonl_path, data)
        except OSError as exc:
            self._truncate_jsonl(start)
            raise AuditError(
                f"cannot write audit log {self.audit_jsonl_path} ({exc.strerror or exc}): "
                "nothing was changed"
            ) from None
        return start

    def _truncate_jsonl(self, length: int) -> None:
        try:
            fd = os.open(self.audit_jsonl_path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if os.fstat(fd).st_size > length:
                os.ftruncate(fd, length)
                os.fsync(fd)
        finally:
            os.close(fd)

    def _move_uncommitted_tail(self) -> None:
        """Lines past the committed length come from a crash before COMMIT: move them aside."""
        if not self._schema_ready:  # creating the workspace
            return
        row = self.connection.execute("SELECT audit_jsonl_bytes FROM workspace").fetchone()
        if row is None:
            return
        committed = int(row[0])
        try:
            size = os.lstat(self.audit_jsonl_path).st_size
        except OSError:
            return  # reported by verify and by the next append
        if size <= committed:
            return
        with open(self.audit_jsonl_path, "rb") as f:
            f.seek(committed)
            tail = f.read()
        leftover = self.directory / UNCOMMITTED_FILE
        if not leftover.exists():
            _create_private_file(leftover)
        _append_fsync(leftover, tail)
        self._truncate_jsonl(committed)
        self.audit(
            "audit.repair",
            AUDIT_FILE,
            {
                "moved_bytes": len(tail),
                "moved_lines": tail.count(b"\n"),
                "moved_sha256": hashlib.sha256(tail).hexdigest(),
                "to": UNCOMMITTED_FILE,
            },
        )

    def audit(
        self,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
        now: datetime | None = None,
    ) -> AuditRecord:
        """Append one audit record inside the current transaction (req. 25).

        ``details`` must be JSON and pass the secret guard (req. 11). The record becomes
        durable only when the transaction commits.
        """
        return self.audit_many([(action, subject, details)], actor=actor, now=now)[0]

    def audit_many(
        self,
        entries: Iterable[tuple[str, str, Mapping[str, Any] | None]],
        *,
        actor: str | None = None,
        now: datetime | None = None,
    ) -> list[AuditRecord]:
        """Append one chained record per ``(action, subject, details)``, in order (req. 25).

        The same checks and records as calling :meth:`audit` for each entry (every record is
        guarded and hash-chained to the one before), with one read of the chain head and one
        ``executemany``. All or nothing: if any entry is refused, none is added.
        """
        self._require_transaction()
        last = self.connection.execute(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        who = actor or self.actor
        at = iso(self.now(now))
        guard = self.guard
        passed: set[tuple[str, str]] = set()  # clean (field, text) pairs of this batch
        records: list[AuditRecord] = []
        lines: list[bytes] = []
        for action, subject, details in entries:
            if not ACTION_PATTERN.fullmatch(action):
                raise AuditError(
                    f"audit action {action!r} must be dotted lower-case, e.g. cert.issue"
                )
            body = dict(details or {})
            guard.check(body, passed=passed)
            guard.check({"subject": subject}, passed=passed)
            try:
                details_json, h, line = chained_record(seq, at, who, action, subject, body, prev)
            except (TypeError, ValueError) as exc:
                raise AuditError(f"audit details for {action} are not plain JSON ({exc})") from None
            records.append(AuditRecord(seq, at, who, action, subject, details_json, prev, h))
            lines.append(line)
            seq, prev = seq + 1, h
        self.connection.executemany(
            "INSERT INTO audit (seq, time, actor, action, subject, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.seq, r.time, r.actor, r.action, r.subject, r.details_json, r.prev_hash, r.hash)
                for r in records
            ],
        )
        self._pending_lines.extend(lines)
        return records

    def audit_records(self, *, limit: int | None = None) -> list[AuditRecord]:
        """Audit records from the database, oldest first (the last ``limit`` when given)."""
        return read_records(self.connection, limit=limit)
