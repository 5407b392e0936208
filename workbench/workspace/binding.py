"""The state bound to its audit chain (security requirement 31).

The hash chain proves the audit records were not edited; on its own it says nothing about
the ``steps``, ``verdicts`` and ``certificates`` tables next to it, and a chain cut at its
end and recomputed verifies again. Three checks close that:

- :func:`check_state` replays the chain (``step.state``, ``plan.set``, ``verdict.record``,
  ``cert.issue``/``renew``/``supersede``/``revoke``) and reports the first row whose step
  state, verdict, evidence digest or active certificate differs from what the chain records
  (a FAIL edited into a PASS, a step set to ``verified`` by hand, a certificate revived);
- :func:`chain_head` is the last record's ``(seq, hash)``: every export names it;
- :func:`check_anchors` fails when a head quoted earlier (``SEQ:HASH``, from a ticket) is
  gone or different: a chain cut and recomputed no longer holds it.

Read-only; nothing is repaired here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import InputError
from workbench.states import StepState
from workbench.workspace.audit import GENESIS_HASH, AuditRecord, read_records

__all__ = [
    "Anchor",
    "ChainHead",
    "StateCheck",
    "chain_head",
    "check_anchors",
    "check_state",
    "parse_anchor",
]

_ANCHOR = re.compile(r"([0-9]{1,18}):([0-9a-f]{64})")


@dataclass(frozen=True)
class ChainHead:
    """The last audit record when something was exported."""

    seq: int
    """Its seq (0 for an empty chain)."""
    hash: str
    """Its hash (64 zeros for an empty chain)."""

    @property
    def anchor(self) -> str:
        """``SEQ:HASH``, what ``workbench audit verify --anchor`` takes."""
        return f"{self.seq}:{self.hash}"

    def to_dict(self) -> dict[str, Any]:
        """``{"seq": ..., "hash": ..., "anchor": "SEQ:HASH"}`` for JSON exports."""
        return {"seq": self.seq, "hash": self.hash, "anchor": self.anchor}


Anchor = ChainHead
"""An anchor quoted back to ``audit verify`` is a chain head seen earlier."""


def parse_anchor(text: str) -> ChainHead:
    """``"SEQ:HASH"`` -> :class:`ChainHead`; ``InputError`` naming the expected form."""
    m = _ANCHOR.fullmatch(text.strip().lower())
    if m is None:
        raise InputError(
            f"anchor {text!r} is not SEQ:HASH (a record number, a colon and the 64-hex hash "
            "an export printed as its audit chain head)"
        )
    return ChainHead(int(m.group(1)), m.group(2))


def chain_head(ws: Any) -> ChainHead:
    """The current head of ``ws``'s chain, read from the database."""
    row = ws.connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row[0]), row[1])


def check_anchors(
    records: Sequence[AuditRecord], anchors: Iterable[ChainHead]
) -> tuple[ChainHead, str] | None:
    """The first anchor the chain no longer holds, with why; None when all hold."""
    by_seq = {r.seq: r for r in records}
    for anchor in anchors:
        if anchor.seq == 0:
            if anchor.hash != GENESIS_HASH:
                return anchor, "anchor 0 must carry the genesis hash (64 zeros)"
            continue
        record = by_seq.get(anchor.seq)
        if record is None:
            return anchor, (
                f"record {anchor.seq} is gone: the chain ends at "
                f"{records[-1].seq if records else 0} (records removed after the export)"
            )
        if record.hash != anchor.hash:
            return anchor, (
                f"record {anchor.seq} has hash {record.hash[:16]}..., the anchor says "
                f"{anchor.hash[:16]}... (the chain was rewritten after the export)"
            )
    return None


@dataclass(frozen=True)
class StateCheck:
    """The result of :func:`check_state`."""

    ok: bool
    """True when every checked row agrees with the chain."""
    table: str | None
    """``steps``, ``verdicts`` or ``certificates`` for the first row that does not."""
    row: str | None
    """Its key: step key, verdict id or certificate serial."""
    reason: str
    """One line: what differs, or a summary."""


@dataclass
class _Replay:
    """What the chain says the tables hold."""

    steps: dict[str, str]
    verdicts: dict[int, tuple[AuditRecord, dict[str, Any]]]
    certs: dict[str, tuple[str, dict[str, Any]]]  # serial -> (status, issue details)


def _replay(records: Iterable[AuditRecord]) -> _Replay:
    out = _Replay({}, {}, {})
    for r in records:
        action = r.action
        if action == "step.state":
            out.steps[r.subject] = r.details.get("to")
        elif action == "plan.set":
            for key in r.details.get("removed") or ():
                out.steps.pop(key, None)
        elif action == "verdict.record":
            details = r.details
            if isinstance(details.get("id"), int):
                out.verdicts[details["id"]] = (r, details)
        elif action in ("cert.issue", "cert.renew"):
            out.certs[r.subject] = ("active", r.details)
        elif action in ("cert.supersede", "cert.revoke") and r.subject in out.certs:
            status = "revoked" if action == "cert.revoke" else "superseded"
            out.certs[r.subject] = (status, out.certs[r.subject][1])
    return out


def check_state(ws: Any, records: Sequence[AuditRecord] | None = None) -> StateCheck:
    """Compare the steps, verdicts and certificates tables with the replayed chain."""
    records = read_records(ws.connection) if records is None else records
    chain = _replay(records)
    conn = ws.connection
    for key, state in conn.execute("SELECT key, state FROM steps ORDER BY key"):
        expected = chain.steps.get(key, StepState.PLANNED.value)  # .value: quoted below
        if state != expected:
            return StateCheck(
                False, "steps", key,
                f"step {key} is {state!r} in the database, the audit chain records "
                f"{expected!r} (edited outside the workbench)",
            )  # fmt: skip
    for row in conn.execute(
        "SELECT id, step_key, verdict, old_key_fingerprint, evidence, started_at, finished_at "
        "FROM verdicts ORDER BY id"
    ):
        why = _verdict_differs(row, chain.verdicts.get(row[0]))
        if why:
            return StateCheck(False, "verdicts", str(row[0]), f"verdict row {row[0]}: {why}")
    present = {r[0] for r in conn.execute("SELECT id FROM verdicts")}
    for vid in sorted(chain.verdicts):
        if vid not in present:
            return StateCheck(
                False, "verdicts", str(vid),
                f"verdict {vid} is in the audit chain but gone from the database (deleted)",
            )  # fmt: skip
    rows = conn.execute(
        "SELECT serial, step_key, service, kind, sha256, status FROM certificates ORDER BY serial"
    ).fetchall()
    for serial, step_key, service, kind, sha256, status in rows:
        recorded = chain.certs.get(serial)
        if status != "active" and (recorded is None or recorded[0] != "active"):
            continue  # not active on either side
        if recorded is None:
            return StateCheck(
                False, "certificates", serial,
                f"certificate {serial} is active but the audit chain never recorded its issue",
            )  # fmt: skip
        chain_status, issued = recorded
        if status != chain_status:
            return StateCheck(
                False, "certificates", serial,
                f"certificate {serial} is {status!r} in the database, the audit chain records "
                f"{chain_status!r}",
            )  # fmt: skip
        for name, value in (("step", step_key), ("service", service), ("kind", kind),
                            ("sha256", sha256)):  # fmt: skip
            if name in issued and issued[name] != value:
                return StateCheck(
                    False, "certificates", serial,
                    f"certificate {serial}: {name} differs from the audit chain's issue record",
                )  # fmt: skip
    in_table = {r[0] for r in rows}
    for serial, (status, _) in sorted(chain.certs.items()):
        if status == "active" and serial not in in_table:
            return StateCheck(
                False, "certificates", serial,
                f"certificate {serial} is active in the audit chain but gone from the database",
            )  # fmt: skip
    n_steps = conn.execute("SELECT count(*) FROM steps").fetchone()[0]
    return StateCheck(
        True, None, None,
        f"{n_steps} step(s), {len(present)} verdict(s) and the active certificates agree "
        "with the audit chain",
    )  # fmt: skip


def _verdict_differs(row: tuple, recorded: tuple[AuditRecord, dict[str, Any]] | None) -> str | None:
    vid, step_key, verdict, fingerprint, evidence, started_at, finished_at = row
    if recorded is None:
        return "not recorded in the audit chain (inserted outside the workbench)"
    record, details = recorded
    if record.subject != step_key:
        return f"step {step_key}, the audit chain records {record.subject}"
    if details.get("verdict") != verdict:
        return f"says {verdict}, the audit chain records {details.get('verdict')}"
    if details.get("old_key_fingerprint") != fingerprint:
        return "old key fingerprint differs from the audit chain"
    digest = hashlib.sha256(evidence.encode()).hexdigest()
    if details.get("evidence_sha256") not in (None, digest):
        return "evidence differs from its SHA-256 in the audit chain (edited)"
    for name, value in (("started_at", started_at), ("finished_at", finished_at)):
        if name in details and details[name] != value:
            return f"{name} differs from the audit chain"
    return None
