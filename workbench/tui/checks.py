"""Checks before an action (no Textual here): missing old-key values, what a confirmed
action will do, and a cut-over's usage pre-check with its numbers (for the dialog that
offers ``--since`` and ``--force``). They read; they never change anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workbench.states import GatewayMode, StepState
from workbench.tui.actions import MODE_MEANING

__all__ = [
    "BlockedCutover",
    "Preview",
    "cutover_preview",
    "missing_old_keys",
    "preview",
    "usage_block",
]


@dataclass(frozen=True)
class Preview:
    """What a confirmed action will do, in words, and whether confirming it is a ``--force``."""

    text: str
    force: bool = False
    """The dialog warned that the change voids a verified step's proof (``--force``)."""


@dataclass(frozen=True)
class BlockedCutover:
    """The usage pre-check refused a cut-over: the old key was accepted recently."""

    step: str
    accepted: int
    """Accepted requests with the old key in the window."""
    window_start: datetime
    last_accepted: datetime | None
    user_agents: tuple[str, ...] = field(default=())

    @property
    def later_since(self) -> datetime:
        """The earliest ``--since`` that leaves out every use found (one second after the last)."""
        last = self.last_accepted or self.window_start
        return last.replace(microsecond=0) + timedelta(seconds=1)

    def reason(self) -> str:
        last = self.last_accepted.isoformat(timespec="seconds") if self.last_accepted else "?"
        agents = ", ".join(self.user_agents) or "?"
        return (
            f"The old key of {self.step} was accepted {self.accepted} time(s) since "
            f"{self.window_start.isoformat(timespec='seconds')} (last {last}, clients {agents}). "
            "Cutting over now would break whoever still sends it."
        )


# --- before an action -------------------------------------------------------------------


def missing_old_keys(
    campaign: Any, steps: Sequence[str], given: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``(step, VARIABLE)`` for each step whose ``env:`` old key is set nowhere."""
    out = []
    seen = set()
    for step in steps:
        ref = campaign.inventory.key(step).secret_ref or ""
        scheme, _, name = ref.partition(":")
        unset = name and name not in os.environ and name not in given
        if scheme == "env" and unset and name not in seen:
            seen.add(name)
            out.append((step, name))
    return out


def usage_block(campaign: Any, step: str, since: datetime | None) -> BlockedCutover | None:
    from workbench.migration.usage import step_usage

    window_start = since or campaign.now() - timedelta(minutes=15)
    usage = step_usage(campaign, step, since=window_start)
    if not usage.accepted:
        return None
    return BlockedCutover(
        step, usage.accepted, window_start, usage.last_accepted, tuple(usage.user_agents)
    )


def _current_mode(campaign: Any, api: str) -> str:
    from workbench.migration.verification import route_mode

    try:
        mode = route_mode(campaign, api)
    except Exception:  # noqa: BLE001 - a preview must not fail on an unreadable gateway state
        return "its current mode (unreadable now)"
    return mode or "its current mode (no managed gateway is running: the change will fail)"


def cutover_preview(campaign: Any, step: str, since: datetime | None) -> BlockedCutover | Preview:
    """What a cut-over will do, or why its usage pre-check would refuse it."""
    blocked = usage_block(campaign, step, since)
    if blocked is not None:
        return blocked
    api = campaign.inventory.key(step).api
    return Preview(
        f"cutover --step {step}\n\n"
        f"1. The old key was not accepted since the window start: the pre-check passes.\n"
        f"2. The gateway for {api} goes from {_current_mode(campaign, api)} to mtls: "
        f"it {MODE_MEANING[GatewayMode.MTLS]}.\n"
        "3. The verifier probes it: the new certificate must be accepted, the old key and "
        "foreign or revoked certificates refused.\n"
        "4. Unless the verdict is PASS it is rolled back to dual (old key accepted again)."
    )


def preview(campaign: Any, action: str, step: str | None, params: Mapping[str, Any]) -> Preview:
    """What a confirmed action will do, in a few sentences."""
    if action.startswith("set-mode:"):
        mode = action.split(":", 1)[1]
        api = campaign.inventory.key(step).api
        current = _current_mode(campaign, api)
        verified = campaign.workspace.step(step).state == StepState.VERIFIED
        warning = (
            f"\n\n{step} is verified: this change voids that proof (the step leaves verified "
            "and needs a new PASS). Confirming is `--force`."
            if verified
            else ""
        )
        return Preview(
            f"gateway set-mode {mode} --step {step}{' --force' if verified else ''}\n\n"
            f"The managed gateway's route for {api} goes from {current} to {mode}: it "
            f"{MODE_MEANING[mode]}. The config is rendered, validated, audited, applied and "
            f"reloaded without dropping requests.{warning}",
            force=verified,
        )
    if action == "revoke":
        what = (
            f"certificate {params['serial']}"
            if params.get("serial")
            else f"every active certificate of {params['service']}"
        )
        return Preview(
            f"revoke {what} --reason {params['reason']}\n\n"
            "It is marked revoked in the workspace (audited) and fresh CRLs are published; "
            "a gateway that loads them refuses it from then on. This cannot be undone."
        )
    return Preview(action)
