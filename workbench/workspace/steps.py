"""Plan snapshot, step state machine and verdicts (mixed into ``Workspace``).

The plan is another engineer's object; the workspace treats it as an opaque dict and only
reads ``waves[].steps[].key/api/consumers`` (plus an optional ``number`` per wave and an
optional ``fingerprint`` per step).

Requirement 13 and 32: a step is ``verified`` only while its latest verification is a PASS
that started at or after its last cut-over and its latest gateway change. A later non-PASS
verdict or a later gateway change for the step moves it out (audited as a regression).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench import states
from workbench.errors import UnknownIdError, WorkspaceError
from workbench.states import CERTIFICATE_ONLY_MODES, StepState
from workbench.workspace.audit import canonical_json, iso
from workbench.workspace.paths import check_name
from workbench.workspace.records import TRANSITIONS, Step, Verdict, parse_member

if TYPE_CHECKING:
    from workbench.workspace.store import Workspace

__all__ = ["PlanChange", "StepsMixin"]

_FINGERPRINT = re.compile(r"[0-9a-f]{12,64}")


@dataclass(frozen=True)
class PlanChange:
    """What ``set_plan`` did to the steps."""

    sha256: str
    """SHA-256 of the canonical plan JSON."""
    added: tuple[str, ...]
    """Step keys new in this plan."""
    kept: tuple[str, ...]
    """Step keys already known (state preserved, wave/api/consumers updated)."""
    removed: tuple[str, ...]
    """Planned steps no longer in the plan (deleted)."""
    orphaned: tuple[str, ...]
    """Started steps no longer in the plan (kept with ``in_plan`` False)."""


def _consumer_id(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        for k in ("id", "service"):
            if isinstance(item.get(k), str):
                return item[k]
    raise WorkspaceError("plan step consumers must be service ids or objects with an 'id'")


def _plan_steps(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    waves = plan.get("waves")
    if not isinstance(waves, list):
        raise WorkspaceError("plan has no 'waves' list: pass plan.to_dict()")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, wave in enumerate(waves, start=1):
        if not isinstance(wave, Mapping) or not isinstance(wave.get("steps"), list):
            raise WorkspaceError(f"plan wave {i} has no 'steps' list")
        number = wave.get("number", wave.get("wave", i))
        if not isinstance(number, int):
            number = i
        for step in wave["steps"]:
            key = step.get("key") if isinstance(step, Mapping) else None
            if not isinstance(key, str):
                raise WorkspaceError(f"plan wave {number}: a step has no string 'key'")
            check_name(key)  # step keys become directory names (req. 21)
            if key in seen:
                raise WorkspaceError(f"plan lists step {key!r} twice: fix the plan")
            seen.add(key)
            fp = step.get("fingerprint", step.get("key_fingerprint"))
            if fp is not None and not (isinstance(fp, str) and _FINGERPRINT.fullmatch(fp)):
                raise WorkspaceError(f"plan step {key}: fingerprint must be 12-64 lower-case hex")
            api = step.get("api")
            out.append(
                {
                    "key": key,
                    "wave": number,
                    "api": api if isinstance(api, str) else None,
                    "consumers": [_consumer_id(c) for c in step.get("consumers") or []],
                    "fingerprint": fp,
                }
            )
    return out


class StepsMixin:
    """Plan, steps and verdicts. Methods open a transaction when the caller has none."""

    def set_plan(
        self: Workspace, plan: Mapping[str, Any], *, now: datetime | None = None
    ) -> PlanChange:
        """Store the plan snapshot and create/update its steps (states are preserved)."""
        steps = _plan_steps(plan)
        self.guard.check(plan, what="plan")
        text = canonical_json(plan)
        sha = hashlib.sha256(text.encode("ascii")).hexdigest()
        at = iso(self.now(now))
        with self.transaction():
            conn = self.connection
            conn.execute(
                "INSERT INTO plan (id, plan_json, sha256, set_at) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET plan_json = excluded.plan_json, "
                "sha256 = excluded.sha256, set_at = excluded.set_at",
                (text, sha, at),
            )
            known = {r["key"]: r["state"] for r in conn.execute("SELECT key, state FROM steps")}
            wanted = {s["key"] for s in steps}
            added, kept = [], []
            for s in steps:
                consumers = json.dumps(s["consumers"])
                if s["key"] in known:
                    kept.append(s["key"])
                    conn.execute(
                        "UPDATE steps SET wave = ?, api = ?, consumers = ?, key_fingerprint = ?,"
                        " in_plan = 1 WHERE key = ?",
                        (s["wave"], s["api"], consumers, s["fingerprint"], s["key"]),
                    )
                else:
                    added.append(s["key"])
                    conn.execute(
                        "INSERT INTO steps (key, wave, api, consumers, key_fingerprint, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (s["key"], s["wave"], s["api"], consumers, s["fingerprint"], at),
                    )
            removed = sorted(
                k for k, st in known.items() if k not in wanted and st == StepState.PLANNED
            )
            orphaned = sorted(
                k for k, st in known.items() if k not in wanted and st != StepState.PLANNED
            )
            for k in removed:
                conn.execute("DELETE FROM steps WHERE key = ?", (k,))
            for k in orphaned:
                conn.execute("UPDATE steps SET in_plan = 0 WHERE key = ?", (k,))
            change = PlanChange(sha, tuple(added), tuple(kept), tuple(removed), tuple(orphaned))
            self.audit(
                "plan.set",
                sha[:16],
                {
                    "sha256": sha,
                    "steps": len(steps),
                    "added": len(added),
                    "removed": removed,
                    "orphaned": orphaned,
                },
                now=now,
            )
        return change

    def plan(self: Workspace) -> dict[str, Any] | None:
        """The stored plan snapshot, or None before ``set_plan``."""
        row = self.connection.execute("SELECT plan_json FROM plan WHERE id = 1").fetchone()
        return None if row is None else json.loads(row[0])

    def steps(self: Workspace, *, wave: int | None = None, state: str | None = None) -> list[Step]:
        """Steps ordered by wave then key, optionally filtered."""
        sql, args = "SELECT * FROM steps WHERE 1 = 1", []
        if wave is not None:
            sql, args = sql + " AND wave = ?", [*args, wave]
        if state is not None:
            sql, args = sql + " AND state = ?", [*args, state]
        rows = self.connection.execute(sql + " ORDER BY wave, key", args).fetchall()
        return [Step.from_row(r) for r in rows]

    def step(self: Workspace, key: str) -> Step:
        """One step; WorkspaceError when the plan has no such step."""
        row = self.connection.execute("SELECT * FROM steps WHERE key = ?", (key,)).fetchone()
        if row is None:
            known = [r[0] for r in self.connection.execute("SELECT key FROM steps")]
            raise UnknownIdError("step", key, known)
        return Step.from_row(row)

    def set_step_state(
        self: Workspace,
        key: str,
        state: StepState | str,
        *,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> Step:
        """Move a step along the state machine; a no-op when it is already in ``state``.

        Refuses illegal transitions, and ``verified`` without a PASS verdict recorded since
        the step's last cut-over (req. 13).
        """
        state = parse_member(StepState, state, "step state")
        with self.transaction():
            current = self.step(key)
            if current.state == state:
                return current
            if state not in TRANSITIONS[current.state]:
                allowed = ", ".join(sorted(TRANSITIONS[current.state])) or "none"
                raise WorkspaceError(
                    f"step {key} cannot go from {current.state} to {state} (allowed: {allowed})"
                )
            if state == StepState.VERIFIED:
                self._require_pass_since_cut_over(current)
            at = iso(self.now(now))
            cut_over_at = (
                at
                if state == StepState.CUT_OVER
                else (iso(current.cut_over_at) if current.cut_over_at else None)
            )
            self.connection.execute(
                "UPDATE steps SET state = ?, reason = ?, updated_at = ?, cut_over_at = ? "
                "WHERE key = ?",
                (state, reason, at, cut_over_at, key),
            )
            self.audit(
                "step.state",
                key,
                {"from": current.state, "to": state, "reason": reason},
                now=now,
            )
            return self.step(key)

    def _require_pass_since_cut_over(self: Workspace, step: Step) -> None:
        if step.cut_over_at is None:
            raise WorkspaceError(f"step {step.key} has no recorded cut-over: cut over first")
        change = self.connection.execute(
            "SELECT changed_at FROM gateway_changes WHERE step_key = ? ORDER BY id DESC LIMIT 1",
            (step.key,),
        ).fetchone()
        since = max(iso(step.cut_over_at), change[0] if change else "")
        latest = self.connection.execute(
            "SELECT * FROM verdicts WHERE step_key = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            (step.key,),
        ).fetchone()
        if (
            latest is None
            or latest["verdict"] != states.Verdict.PASS
            or latest["started_at"] < since
        ):
            seen = (
                "no verdict"
                if latest is None
                else f"latest verdict is {latest['verdict']} (started {latest['started_at']})"
            )
            raise WorkspaceError(
                f"step {step.key} cannot be marked verified: {seen}; it needs a PASS started "
                f"after its last cut-over or gateway change at {since}; run `workbench verify "
                f"--step {step.key}`"
            )

    def _regress(self: Workspace, key: str, to: str, why: str, now: datetime | None) -> None:
        """Move a verified step out of ``verified`` (audited) because its proof is void."""
        self.set_step_state(key, to, reason=f"regressed: {why}", now=now)

    def gateway_changed(
        self: Workspace, step_key: str, to_mode: str, now: datetime | None = None
    ) -> None:
        """Called when a step's gateway changes: a verified step's proof no longer holds."""
        step = self.step(step_key)
        if step.state == StepState.VERIFIED:
            to = StepState.CUT_OVER if to_mode in CERTIFICATE_ONLY_MODES else StepState.ROLLED_BACK
            self._regress(step_key, to, f"gateway changed to {to_mode} after the PASS", now)

    def record_verdict(
        self: Workspace,
        step_key: str,
        verdict: states.Verdict | str,
        *,
        started_at: datetime,
        finished_at: datetime,
        old_key_fingerprint: str,
        evidence: Mapping[str, Any],
        now: datetime | None = None,
    ) -> Verdict:
        """Store a verifier verdict with its evidence (guarded against secrets, req. 11)."""
        verdict = parse_member(states.Verdict, verdict, "verdict")
        if not _FINGERPRINT.fullmatch(old_key_fingerprint or ""):
            raise WorkspaceError(
                "old_key_fingerprint must be 12-64 lower-case hex (SHA-256 prefix), never the key"
            )
        self.guard.check(evidence, what="verdict evidence")
        evidence_json = canonical_json(dict(evidence))
        with self.transaction():
            step = self.step(step_key)
            if step.key_fingerprint and not (
                step.key_fingerprint.startswith(old_key_fingerprint)
                or old_key_fingerprint.startswith(step.key_fingerprint)
            ):
                raise WorkspaceError(
                    f"verdict for step {step_key} is about key {old_key_fingerprint}, but the "
                    f"step's key is {step.key_fingerprint}: probe the right key"
                )
            cur = self.connection.execute(
                "INSERT INTO verdicts (step_key, verdict, started_at, finished_at, "
                "old_key_fingerprint, evidence, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    step_key,
                    verdict,
                    iso(started_at),
                    iso(finished_at),
                    old_key_fingerprint,
                    evidence_json,
                    iso(self.now(now)),
                ),
            )
            self.audit(
                "verdict.record",
                step_key,
                {
                    "id": cur.lastrowid,
                    "verdict": verdict,
                    "old_key_fingerprint": old_key_fingerprint,
                    "evidence_sha256": hashlib.sha256(evidence_json.encode()).hexdigest(),
                    # which verdict is "latest" is decided by started_at: bind it (req. 31)
                    "started_at": iso(started_at),
                    "finished_at": iso(finished_at),
                },
                now=now,
            )
            if verdict != states.Verdict.PASS and step.state == StepState.VERIFIED:
                self._regress(
                    step_key, StepState.CUT_OVER, f"a later verification gave {verdict}", now
                )
            row = self.connection.execute(
                "SELECT * FROM verdicts WHERE id = ?", (cur.lastrowid,)
            ).fetchone()
        return Verdict.from_row(row)

    def latest_verdict(self: Workspace, step_key: str) -> Verdict | None:
        """The most recently started verdict for a step, or None."""
        row = self.connection.execute(
            "SELECT * FROM verdicts WHERE step_key = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            (step_key,),
        ).fetchone()
        return None if row is None else Verdict.from_row(row)

    def verdicts(self: Workspace, step_key: str | None = None) -> list[Verdict]:
        """Verdicts, oldest first, optionally for one step."""
        if step_key is None:
            rows = self.connection.execute("SELECT * FROM verdicts ORDER BY id").fetchall()
        else:
            rows = self.connection.execute(
                "SELECT * FROM verdicts WHERE step_key = ? ORDER BY id", (step_key,)
            ).fetchall()
        return [Verdict.from_row(r) for r in rows]
