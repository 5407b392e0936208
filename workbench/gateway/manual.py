"""A gateway a person changes: the workbench writes what to do, the operator records it.

``set-mode`` on a manual gateway writes the instructions (the rendered files to install, the
commands to run, what to check) under ``<workspace>/manual/<gateway>/`` and into the step's
ticket, and changes nothing. ``workbench gateway applied --step K --mode M`` records that
the operator applied them; only then does the step move on. Tightening (to ``mtls``) is
refused until that record exists, so ``cutover`` verifies a change that was made; loosening
(a rollback to ``dual``) is written as instructions and recorded the same way. The refusal
itself is :func:`workbench.migration.gateway_ops.set_step_mode`'s (``ManualApplication``).

A drill's change (install a new CRL) is written the same way, as numbered steps in
``<workspace>/manual/<gateway>/changes/<change>.txt`` ending with the command that records it:
``workbench gateway applied --gateway G --change ID`` (:meth:`ManualGateway.record_change`,
kept in ``changes.json`` beside the steps); the drill polls for that record.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import GatewayError
from workbench.gateway.handle import AppliedChange, Commit
from workbench.states import CERTIFICATE_ONLY_MODES, GatewayMode
from workbench.workspace.atomic import atomic_write

__all__ = ["ManualGateway"]

MANUAL_DIR = "manual"
CHANGE_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def _read_dict(path: Path) -> dict:
    """A JSON object from ``path`` ({} while the file is missing or not one)."""
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


class ManualGateway:
    """kind ``manual``: see the module doc."""

    kind = "manual"

    def __init__(self, campaign: Any, config: Any) -> None:
        self.campaign = campaign
        self.cfg = config
        self.id = config.id
        self._applied: set[str] = set()

    @property
    def _state_path(self) -> Path:
        return self.campaign.directory / MANUAL_DIR / self.id / "applied.json"

    def _applied_routes(self) -> dict[str, dict]:
        return _read_dict(self._state_path)

    def current_mode(self, api_id: str) -> str:
        return self._applied_routes().get(api_id, {}).get("mode", GatewayMode.KEY)

    def mark_applied(self, api_id: str, step_key: str, mode: str) -> None:
        """The operator says the step's change to ``mode`` is in force (``gateway applied``).

        Keyed by API, not mode: retiring one step's key (``mtls``) leaves the route in
        ``dual`` while another key is still accepted, and that is the change applied."""
        self._applied.add(api_id)

    def instructions(self, api_id: str, mode: str, key_ids: tuple[str, ...]) -> list[str]:
        inv = self.campaign.inventory
        api = inv.api(api_id)
        keys = ", ".join(key_ids) or "none"
        steps = [k.id for k in inv.keys if k.api == api_id]
        return [
            f"gateway {self.id} (manual), API {api_id} at {api.url}: set mode {mode}",
            f"keys the route must still accept: {keys}",
            "render the configs: `workbench render --step "
            f"{steps[0] if steps else '<step>'}` (nginx, HAProxy, Istio under rendered/)",
            "install them, validate (nginx -t / haproxy -c) and reload your gateway",
            f"check: a consumer certificate gets 2xx on {api.url}; "
            + (
                "the retired key gets 401/403"
                if mode in CERTIFICATE_ONLY_MODES
                else "the key still works"
            ),
            "then record it: `workbench gateway applied --step "
            f"{steps[0] if len(steps) == 1 else '<step>'} --mode {mode}`",
        ]

    def change_route(
        self, api_id: str, mode: str, key_ids: tuple[str, ...], *, commit: Commit
    ) -> AppliedChange:
        before = self.current_mode(api_id)
        lines = self.instructions(api_id, mode, key_ids)
        text = ("\n".join(lines) + "\n").encode()
        sha = hashlib.sha256(text).hexdigest()
        path = self.campaign.directory / MANUAL_DIR / self.id / f"{api_id}-{mode}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text, mode=0o644)
        routes = self._applied_routes()
        wanted = {"mode": mode, "keys": sorted(key_ids)}
        if api_id in self._applied or routes.get(api_id) == wanted:
            commit(sha)
            routes[api_id] = wanted
            atomic_write(self._state_path, json.dumps(routes, indent=1).encode(), mode=0o644)
            return AppliedChange(api_id, before, mode, sha)
        return AppliedChange(api_id, before, mode, sha, instructions=(*lines, f"(saved in {path})"))

    # ---- a drill's changes (steps written, then recorded by the operator)
    @property
    def _changes_path(self) -> Path:
        return self.campaign.directory / MANUAL_DIR / self.id / "changes.json"

    def _steps_path(self, change_id: str) -> Path:
        if not CHANGE_ID.fullmatch(change_id):
            raise GatewayError(f"change id {change_id!r}: use lower-case letters, digits and -")
        return self.campaign.directory / MANUAL_DIR / self.id / "changes" / f"{change_id}.txt"

    def write_steps(self, change_id: str, lines: list[str]) -> tuple[Path, str]:
        """Write a change's steps for the operator; (file, its SHA-256). A change written
        again (a re-run) starts unrecorded: the old record was for the old steps."""
        path = self._steps_path(change_id)
        text = ("\n".join(lines) + "\n").encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text, mode=0o644)
        changes = self._changes()
        if changes.pop(change_id, None) is not None:
            atomic_write(self._changes_path, json.dumps(changes, indent=1).encode(), mode=0o644)
        return path, hashlib.sha256(text).hexdigest()

    def _changes(self) -> dict[str, dict]:
        return _read_dict(self._changes_path)

    def pending_changes(self) -> list[str]:
        """Changes whose steps were written and not recorded yet."""
        folder = self.campaign.directory / MANUAL_DIR / self.id / "changes"
        done = self._changes()
        names = sorted(p.stem for p in folder.glob("*.txt")) if folder.is_dir() else []
        return [n for n in names if CHANGE_ID.fullmatch(n) and n not in done]

    def record_change(self, change_id: str, now: datetime | None = None) -> dict:
        """The operator says the steps of ``change_id`` are done; returns the record."""
        path = self._steps_path(change_id)
        if not path.is_file():
            from workbench.errors import UnknownIdError

            raise UnknownIdError("change", change_id, self.pending_changes())
        record = {
            "applied_at": (now or datetime.now(UTC)).isoformat(timespec="microseconds"),
            "steps_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        changes = self._changes()
        changes[change_id] = record
        atomic_write(self._changes_path, json.dumps(changes, indent=1).encode(), mode=0o644)
        return record

    def change_recorded(self, change_id: str) -> dict | None:
        """The record of ``change_id`` (None while the operator has not recorded it)."""
        return self._changes().get(change_id)

    def route_recorded(self, api_id: str, mode: str, key_ids: tuple[str, ...]) -> bool:
        """Whether ``gateway applied --step`` recorded ``api_id`` in ``mode`` with ``key_ids``."""
        return self._applied_routes().get(api_id) == {"mode": mode, "keys": sorted(key_ids)}

    def access_log(self) -> Path:
        if self.cfg.access_log:
            base = Path(self.campaign.inventory.source or ".").resolve().parent
            return (base / self.cfg.access_log).resolve()
        raise GatewayError(
            f"gateway {self.id} (manual) declares no access_log: usage cannot be read; add "
            "access_log: to its inventory entry (the workbench's JSON Lines format)"
        )

    def push_crls(self) -> None:
        raise GatewayError(f"gateway {self.id} is manual: install crl/crl.pem by hand and reload")

    def token_endpoint(self) -> str:
        raise GatewayError(f"gateway {self.id} (manual) runs no token server")

    def token_server_ca(self) -> Path | None:
        return None

    def token_events_log(self) -> Path | None:
        return None
