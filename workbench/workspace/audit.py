"""Append-only, hash-chained audit log (security requirement 25).

Each record's ``hash`` is SHA-256 over the canonical JSON of the record (seq, time, actor,
action, subject, details, prev_hash); ``prev_hash`` is the previous record's hash (64 zeros
for the first). Records live in the workspace database (table ``audit``, guarded by
triggers against UPDATE/DELETE) and are mirrored line by line in ``audit.jsonl``.
:func:`verify_audit` recomputes the chain in both and checks that they agree; editing any
past record in either place is reported with the seq of the first broken record.

The database row and the JSONL line are written inside the same transaction as the state
change they describe (see ``Workspace.transaction``): if either cannot be written, the
change is rolled back. A chain can be cut at its end without detection unless its head hash
is kept elsewhere: copy ``AuditCheck.head_hash`` into change tickets to anchor it.

Details never hold secret values (req. 11): :class:`SecretGuard` refuses PEM private keys,
JWTs, well-known token prefixes, long high-entropy strings (the inventory's rules), the value
of any secret this process resolved, and any registered canary.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import socket
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _encode_str  # what json.dumps uses
from pathlib import Path
from typing import Any

from workbench.errors import AuditError
from workbench.secrets import MIN_SECRET_LEN, contains_live_secret, secret_kind

__all__ = [
    "GENESIS_HASH",
    "AuditCheck",
    "AuditRecord",
    "SecretGuard",
    "canonical_json",
    "default_actor",
    "read_records",
    "record_hash",
    "verify_audit",
]

GENESIS_HASH = "0" * 64
ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_FIELDS = ("seq", "time", "actor", "action", "subject", "details", "prev_hash", "hash")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, ASCII only, no NaN."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


@dataclass(frozen=True)
class AuditRecord:
    """One audit record, as stored in the database and in ``audit.jsonl``."""

    seq: int
    """1-based position in the chain."""
    time: str
    """ISO 8601 UTC time of the record."""
    actor: str
    """Who did it (``user@host`` unless given)."""
    action: str
    """Dotted verb, e.g. ``cert.issue``, ``step.state``."""
    subject: str
    """What it acted on (serial, step key, api id, ...)."""
    details_json: str
    """Canonical JSON of the details object; never secret values."""
    prev_hash: str
    """Hash of the previous record (64 zeros for seq 1)."""
    hash: str
    """SHA-256 hex of the canonical JSON of every field above."""

    @property
    def details(self) -> Any:
        """The details as a fresh JSON object."""
        return json.loads(self.details_json)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form (also one line of ``audit.jsonl``)."""
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def jsonl(self) -> bytes:
        """The record's line in ``audit.jsonl``."""
        return (canonical_json(self.to_dict()) + "\n").encode("ascii")


def record_hash(
    seq: int, time: str, actor: str, action: str, subject: str, details: Any, prev_hash: str
) -> str:
    """SHA-256 hex over the canonical JSON of a record's fields (``hash`` excluded)."""
    body = {
        "seq": seq,
        "time": time,
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


def _json_value(value: Any) -> str:
    return _encode_str(value) if type(value) is str else canonical_json(value)


_SCALARS = (str, int, bool, type(None))


def _flat(details: Any) -> bool:
    """A dict of str keys to str, int, bool or None: its canonical JSON reads back as is."""
    return type(details) is dict and all(
        type(k) is str and type(v) in _SCALARS for k, v in details.items()
    )


def chained_record(
    seq: int, time: str, actor: str, action: str, subject: str, details: Any, prev_hash: str
) -> tuple[str, str, bytes]:
    """``(details_json, hash, jsonl_line)`` of a new record, each serialised once.

    Byte-for-byte what ``canonical_json(details)``, :func:`record_hash` and
    :meth:`AuditRecord.jsonl` give (the hash covers the details as read back from their
    JSON, as ``verify_audit`` recomputes it), without dumping and re-parsing the whole
    record three times: canonical JSON sorts keys, so the record is its fields in
    alphabetical order around the canonical details. Saves ~30 us per record.
    """
    details_json = canonical_json(details)
    # Re-read differs only for non-str keys; a flat dict of str keys and scalars reads back as is.
    reread = details_json if _flat(details) else canonical_json(json.loads(details_json))
    # sorted keys: action, actor, details, [hash,] prev_hash, seq, subject, time
    head = f'{{"action":{_json_value(action)},"actor":{_json_value(actor)},"details":{reread}'
    tail = (
        f',"prev_hash":{_json_value(prev_hash)},"seq":{_json_value(seq)}'
        f',"subject":{_json_value(subject)},"time":{_json_value(time)}}}'
    )
    digest = hashlib.sha256(f"{head}{tail}".encode("ascii")).hexdigest()
    line = f'{head},"hash":{_encode_str(digest)}{tail}\n'.encode("ascii")
    return details_json, digest, line


def default_actor() -> str:
    """``user@host`` of the running process (falls back to the uid without a passwd entry)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


# --- the secret guard -------------------------------------------------------------------

# Field names under which the workbench records digests and thumbprints it computed: random
# by nature, so the long-random-token heuristic is skipped for them. Shapes that only a
# secret has, and the values of secrets this process holds, are refused everywhere.
_DIGEST_FIELDS = ("sha256", "x5t_s256", "x5t#s256", "thumbprint", "jkt", "hash", "fingerprint")
_URL = re.compile(r"\b(?:https?|file|spiffe)://[^\s?#'\"]*")
# A path: absolute, or relative with at least one separator (resolved against the guard's
# base directory, the workspace).
_PATH = re.compile(r"(?<![\w.~+=-])(?:/|[\w.-]+/)[^\s'\"?#]+")


def _unplaced_rest(candidate: str, base: Path | None) -> str:
    """What is left of a path once its longest existing ancestor is cut off.

    Directories that exist are places, whatever their names look like (a build agent's
    random temporary directory); what lies below them is still read, so a secret dressed
    as a path (``/Zx8Qp...``) keeps its random part.
    """
    path = Path(candidate)
    if not path.is_absolute():
        if base is None:
            return candidate
        path = base / path
    try:
        for ancestor in (path, *path.parents):
            if ancestor.parent != ancestor and ancestor.exists():
                return " " if ancestor == path else " " + str(path.relative_to(ancestor))
    except (OSError, ValueError):
        pass
    return candidate


def _without_places(text: str, base: Path | None) -> str:
    """``text`` with URLs (scheme, host and path; queries are kept) and the existing part of
    paths cut out, so random-looking directory names are not read as secrets."""
    if "/" not in text:  # both patterns need one; without it, _PATH backtracks O(n^2)
        return text
    text = _URL.sub(" ", text)
    return _PATH.sub(lambda m: _unplaced_rest(m.group(0), base), text)


@dataclass
class SecretGuard:
    """Refuses details that look like secrets, with the inventory's rules
    (:func:`workbench.secrets.secret_kind`), and any secret value this process holds.

    ``forbid(value)`` registers a canary or a known secret (held in memory only) that must
    never appear in any string, even as a substring. Values the workbench produced (paths,
    URLs, digests, fingerprints, serials, timestamps) pass.
    """

    base: Path | None = None
    """Directory that relative paths in details are relative to (the workspace)."""
    _forbidden: set[str] = field(default_factory=set, repr=False)

    def forbid(self, *values: str) -> None:
        """Register values (e.g. canaries) that must never be stored."""
        self._forbidden.update(v for v in values if v)

    def check(
        self, obj: Any, *, what: str = "audit details", passed: set[tuple[str, str]] | None = None
    ) -> None:
        """Raise AuditError if any string in ``obj`` (keys included) looks like a secret.

        ``passed``: for a batch checked at one moment (``audit_many``), the (field, string)
        pairs already found clean in it, so that repeated field names and values (a step's
        id, the kind, the shared expiry) are read once per batch, not once per record.
        """
        self._walk(obj, what, "", passed)

    def _walk(self, obj: Any, what: str, key: str, passed: set[tuple[str, str]] | None) -> None:
        # Cheap exact-type tests first: the Mapping ABC check costs ~1 us per value.
        if type(obj) is str:
            self._check_str(obj, what, key, passed)
            return
        if obj is None or type(obj) in (int, float, bool):
            return
        if type(obj) is dict or isinstance(obj, Mapping):
            for k, v in obj.items():
                self._check_str(str(k), what, str(k), passed)
                self._walk(v, what, str(k), passed)
        elif isinstance(obj, list | tuple):
            for v in obj:
                self._walk(v, what, key, passed)
        elif isinstance(obj, str):
            self._check_str(obj, what, key, passed)

    def _check_str(
        self, s: str, what: str, key: str, passed: set[tuple[str, str]] | None = None
    ) -> None:
        if passed is not None and (key, s) in passed:
            return
        reason = self._why(s, key)
        if reason:
            raise AuditError(
                f"{what} field {key or '(value)'!r} looks like a secret ({reason}): "
                "record a fingerprint (first 12 hex of SHA-256) instead"
            )
        if passed is not None:
            passed.add((key, s))

    def _why(self, s: str, key: str) -> str | None:
        if self._forbidden and any(v in s for v in self._forbidden):
            return "a registered secret value"
        if contains_live_secret(s):
            return "a registered secret value"
        if len(s) < MIN_SECRET_LEN:
            return None  # ids, kinds, states, short names
        kind = secret_kind(s, entropy=False)
        if kind or key.lower().endswith(_DIGEST_FIELDS):
            return kind
        return secret_kind(_without_places(s, self.base), hex_is_public=True)


# --- reading and verifying ---------------------------------------------------------------


def _row_to_record(row: tuple[Any, ...]) -> AuditRecord:
    return AuditRecord(*row)


def read_records(conn: sqlite3.Connection, *, limit: int | None = None) -> list[AuditRecord]:
    """Records from the database, oldest first (the last ``limit`` when given)."""
    cols = "seq, time, actor, action, subject, details, prev_hash, hash"
    if limit is None:
        rows = conn.execute(f"SELECT {cols} FROM audit ORDER BY seq").fetchall()  # noqa: S608
    else:
        rows = conn.execute(
            f"SELECT * FROM (SELECT {cols} FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq",  # noqa: S608
            (limit,),
        ).fetchall()
    return [_row_to_record(r) for r in rows]


@dataclass(frozen=True)
class AuditCheck:
    """The result of :func:`verify_audit`."""

    ok: bool
    """True when both copies are complete, chained and identical."""
    count: int
    """Records in the database."""
    first_broken_seq: int | None
    """Seq of the first record that fails (None when ok)."""
    reason: str
    """One line: what is wrong, or a summary when ok."""
    head_hash: str
    """Hash of the last database record (GENESIS_HASH when empty): anchor it in tickets."""
    notes: tuple[str, ...] = ()
    """Harmless findings, e.g. uncommitted lines left by an interrupted operation."""


def _check_chain(records: Iterable[AuditRecord]) -> tuple[int, str] | None:
    prev = GENESIS_HASH
    for i, r in enumerate(records, start=1):
        if r.seq != i:
            return i, f"record seq {r.seq} where {i} was expected (records missing or reordered)"
        if r.prev_hash != prev:
            return i, f"record {i}: prev_hash does not match the hash of record {i - 1}"
        try:
            details = json.loads(r.details_json)
        except ValueError:
            return i, f"record {i}: details are not valid JSON"
        want = record_hash(r.seq, r.time, r.actor, r.action, r.subject, details, r.prev_hash)
        if r.hash != want:
            return i, f"record {i}: content does not match its hash (edited)"
        prev = r.hash
    return None


def _parse_line(line: bytes) -> AuditRecord | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or set(obj) != set(_FIELDS):
        return None
    try:
        return AuditRecord(
            seq=obj["seq"],
            time=obj["time"],
            actor=obj["actor"],
            action=obj["action"],
            subject=obj["subject"],
            details_json=canonical_json(obj["details"]),
            prev_hash=obj["prev_hash"],
            hash=obj["hash"],
        )
    except (TypeError, ValueError):
        return None


def verify_jsonl(
    records: list[AuditRecord], jsonl: Path, committed_bytes: int
) -> tuple[tuple[int, str] | None, tuple[str, ...]]:
    """Compare ``audit.jsonl`` (up to ``committed_bytes``) with the database records."""
    try:
        data = jsonl.read_bytes()
    except FileNotFoundError:
        return ((1 if records else 0), "audit.jsonl is missing"), ()
    except OSError as exc:
        return ((1 if records else 0), f"audit.jsonl cannot be read ({exc.strerror})"), ()
    notes: tuple[str, ...] = ()
    if len(data) > committed_bytes:
        extra = data[committed_bytes:].count(b"\n") or 1
        notes = (
            f"audit.jsonl has {extra} uncommitted line(s) after seq {len(records)} from an "
            "interrupted operation; the next write moves them to audit.jsonl.uncommitted",
        )
    lines = data[:committed_bytes].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, line in enumerate(lines, start=1):
        parsed = _parse_line(line)
        if parsed is None:
            return (i, f"audit.jsonl line {i} is not a valid audit record"), notes
        if i > len(records):
            return (i, f"audit.jsonl line {i} has no matching database record"), notes
        if parsed != records[i - 1]:
            return (i, f"audit.jsonl line {i} differs from database record {i}"), notes
    if len(lines) < len(records):
        n = len(lines) + 1
        return (n, f"audit.jsonl ends before record {n} (lines removed or truncated)"), notes
    return None, notes


def verify_audit(ws: Any) -> AuditCheck:
    """Check the hash chain in the database and its agreement with ``audit.jsonl``.

    ``ws`` is an open ``Workspace``. Read-only: nothing is repaired here.
    """
    conn: sqlite3.Connection = ws.connection
    records = read_records(conn)
    head = records[-1].hash if records else GENESIS_HASH
    problems = []
    db_problem = _check_chain(records)
    if db_problem:
        problems.append((db_problem[0], "database: " + db_problem[1]))
    committed = ws.audit_jsonl_committed_bytes()
    file_problem, notes = verify_jsonl(records, ws.audit_jsonl_path, committed)
    if file_problem:
        problems.append(file_problem)
    if problems:
        seq, reason = min(problems, key=lambda p: p[0])
        return AuditCheck(False, len(records), seq, reason, head, notes)
    summary = f"{len(records)} record(s) chained and mirrored; head {head[:16]}"
    return AuditCheck(True, len(records), None, summary, head, notes)


def iso(dt: datetime) -> str:
    """Fixed-width ISO 8601 UTC (sorts as text). Naive datetimes are refused."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise AuditError("times must be timezone-aware (pass datetime.now(UTC))")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")
