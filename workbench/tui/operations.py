"""Adapters from the TUI's actions to the core (``workbench.*``); no Textual here.

Every call into the core's migration functions goes through this module, so a change of a
core signature touches one place. Each adapter takes an open ``Campaign`` and returns an
:class:`ActionResult`; domain failures stay ``WorkbenchError``s for the app to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from workbench.states import Verdict
from workbench.tui.checks import BlockedCutover, usage_block

__all__ = ["ActionResult", "CutoverRefused", "Progress", "run_action"]

Progress = Callable[[int, int | None], None]
"""``progress(done, total)``; total None when unknown."""


@dataclass(frozen=True)
class ActionResult:
    """What an action did, for a notification."""

    message: str
    """One line for a person."""
    ok: bool = True
    """False for a check that ran and failed (FAIL verdict, key still in use)."""
    show: str | None = None
    """The view to switch to afterwards (``evidence``, ``audit``), if any."""
    files: tuple[str, ...] = ()
    """Files written (exports, renders)."""


# --- the actions --------------------------------------------------------------------------


def run_action(
    campaign: Any,
    action: str,
    step: str | None,
    wave: int | None,
    params: Mapping[str, Any],
    progress: Progress,
    *,
    verify_timeout: float = 5.0,
) -> ActionResult:
    """Run one action; raises ``WorkbenchError`` for domain errors."""
    if action.startswith("set-mode:"):
        return _set_mode(campaign, step, action.split(":", 1)[1], force=bool(params.get("force")))
    handler = _HANDLERS.get(action)
    if handler is None:
        raise ValueError(f"unknown action {action!r}")
    return handler(campaign, step, wave, params, progress, verify_timeout)


def _issue(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration import issue_step

    keys = [step] if wave is None else campaign.wave_steps(wave)
    total = sum(len(campaign.inventory.consumers_of(k)) for k in keys)
    done = 0

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        progress(done, total)

    outs = [issue_step(campaign, k, progress=advance) for k in keys]
    new = sum(len(o.issued) for o in outs)
    active = sum(len(o.certificates) for o in outs)
    where = f"wave {wave} ({len(keys)} steps)" if wave is not None else step
    states = ", ".join(sorted({o.state for o in outs}))
    return ActionResult(f"{where}: {new} new certificate(s), {active} active; step {states}")


def _set_mode(campaign, step: str, mode: str, *, force: bool) -> ActionResult:
    from workbench.migration import verification
    from workbench.migration.gateway_ops import set_step_mode

    # `gateway set-mode` on a verified step needs --force (the CLI's guard, where the core has
    # it): the TUI's confirmation said so before setting ``force``.
    guard = getattr(verification, "guard_verified_change", None)
    if guard is not None:
        guard(campaign, step, force=force)
    change = set_step_mode(campaign, step, mode)
    state = campaign.workspace.step(step).state
    kept = ", ".join(change.keys_accepted) or "none"
    return ActionResult(
        f"{step}: {change.api} {change.from_mode} -> {change.to_mode} "
        f"(keys still accepted: {kept}); step {state}"
    )


def _render(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.render import render_step

    result = render_step(campaign, step, now=campaign.now())
    files = tuple(str(f.path) for f in result.files)
    warn = f"; {len(result.warnings)} warning(s)" if result.warnings else ""
    return ActionResult(f"{step}: {len(files)} file(s) in {result.directory}{warn}", files=files)


def _usage(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration.usage import step_usage

    usage = step_usage(campaign, step)
    if usage.accepted:
        last = usage.last_accepted.isoformat(timespec="seconds") if usage.last_accepted else "?"
        return ActionResult(
            f"{step}: old key still accepted {usage.accepted} time(s), last {last} "
            f"({', '.join(usage.user_agents) or '?'}): move those consumers first",
            ok=False,
        )
    return ActionResult(f"{step}: no request with the old key was accepted")


def _cutover(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration.verification import cutover

    since = params.get("since")
    force = bool(params.get("force"))
    if not force:
        blocked = usage_block(campaign, step, since)
        if blocked is not None:
            raise CutoverRefused(blocked)
    out = cutover(campaign, step, since=since, force=force, timeout=timeout)
    verdict = out.verdict.verdict if out.verdict else "no verdict"
    if out.rolled_back or verdict != Verdict.PASS:
        return ActionResult(
            f"{step}: {verdict}: rolled back to dual (old key re-enabled); step {out.state}",
            ok=False,
            show="evidence",
        )
    return ActionResult(f"{step}: PASS: cut over and verified; step {out.state}", show="evidence")


def _verify(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration.verification import verify_steps, wave_verdict

    keys = [step] if wave is None else campaign.wave_steps(wave)
    done = 0

    def advance(_result: object) -> None:
        nonlocal done
        done += 1
        progress(done, len(keys))

    progress(0, len(keys))
    verdicts = verify_steps(campaign, keys, timeout=timeout, progress=advance)
    overall = wave_verdict(verdicts)
    if wave is None:
        [v] = verdicts
        return ActionResult(f"{step}: {v.verdict}; step {v.state}", ok=v.verdict == Verdict.PASS)
    each = ", ".join(f"{v.step} {v.verdict}" for v in verdicts)
    return ActionResult(f"wave {wave}: {overall} ({each})", ok=overall == Verdict.PASS, show="plan")


def _export(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration.playbooks import export

    scope = params.get("scope", "step")
    out_dir = params.get("directory") or None
    paths = export(
        campaign,
        steps=[step] if scope == "step" else None,
        wave=wave if scope == "wave" else None,
        fmt=params.get("format", "md"),
        out_dir=Path(out_dir) if out_dir else None,
    )
    where = Path(paths[0]).parent if paths else out_dir
    return ActionResult(
        f"export playbook: {len(paths)} file(s) written to {where}",
        files=tuple(str(p) for p in paths),
    )


def _revoke(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration import revoke

    done, crl = revoke(
        campaign,
        serial=params.get("serial") or None,
        service=params.get("service") or None,
        reason=params.get("reason", "unspecified"),
    )
    which = ", ".join(f"{c.serial[:16]} ({c.service})" for c in done) or "nothing"
    published = f"; CRL #{crl.number} published" if crl else ""
    return ActionResult(f"revoked {which}{published}")


def _renew(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration import renew_expiring

    out = renew_expiring(
        campaign,
        renew_before=params.get("before", timedelta(days=2)),
        step=step if params.get("only_step") else None,
        force=bool(params.get("all")),
    )
    warn = (
        f"; {len(out.bound_token_warnings)} bound token(s) stop working"
        if out.bound_token_warnings
        else ""
    )
    return ActionResult(f"renew: {len(out.renewed)} certificate(s) renewed{warn}")


def _crl(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.migration import publish_crls

    crl = publish_crls(campaign)
    return ActionResult(f"CRL #{crl.number} ({crl.revoked} revoked): {crl.combined}")


def _audit_verify(campaign, step, wave, params, progress, timeout) -> ActionResult:
    from workbench.workspace import verify_audit

    check = verify_audit(campaign.workspace)
    word = "OK" if check.ok else "BROKEN"
    return ActionResult(f"audit {word}: {check.reason}", ok=check.ok, show="audit")


class CutoverRefused(Exception):
    """The usage pre-check would refuse: carries the :class:`BlockedCutover` for the dialog."""

    def __init__(self, blocked: BlockedCutover) -> None:
        super().__init__(blocked.reason())
        self.blocked = blocked


_HANDLERS: dict[str, Callable[..., ActionResult]] = {
    "issue": _issue,
    "issue-wave": _issue,
    "render": _render,
    "usage": _usage,
    "cutover": _cutover,
    "verify": _verify,
    "verify-wave": _verify,
    "export": _export,
    "revoke": _revoke,
    "renew": _renew,
    "crl": _crl,
    "audit-verify": _audit_verify,
}
