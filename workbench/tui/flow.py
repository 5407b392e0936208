"""How an action goes from a key press (or palette entry) to a worker, as an app mixin.

The path of a request: CA passphrase if needed -> parameters (form) -> a check in a worker
(missing old-key values, what the action will do, a cut-over's usage pre-check) -> a
confirmation for gateway changes and revocations -> the action in a worker with progress
-> a reload and a notification. Every step can be cancelled; nothing runs half-asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from textual import work

from workbench.errors import PKIError, WorkbenchError
from workbench.tui.actions import ACTIONS, ActionSpec, palette_title
from workbench.tui.failures import one_line, user_error
from workbench.tui.widgets.status import ActionStatus

if TYPE_CHECKING:
    from workbench.tui.checks import BlockedCutover, Preview
    from workbench.tui.operations import ActionResult
    from workbench.tui.screens.form import Field
    from workbench.tui.snapshot import Snapshot

# The dialogs (screens/), the checks and the adapters to the core are imported where they
# are first used: the first frame must not wait for Textual's input widgets or for the
# migration package (see bench/tui_first_frame.py).

__all__ = ["ActionFlow", "Request", "one_line", "user_error"]

REVOKE_REASONS = (
    "unspecified",
    "keyCompromise",
    "superseded",
    "cessationOfOperation",
    "affiliationChanged",
)


@dataclass(frozen=True)
class Request:
    """One action on its way to a worker."""

    spec: ActionSpec
    step: str | None
    wave: int | None
    params: dict[str, Any] = field(default_factory=dict)
    checked: bool = False
    """The worker-side check ran (old keys present, confirmation given)."""

    @property
    def title(self) -> str:
        if self.spec.name == "export":
            scope = self.params.get("scope")
            if scope == "wave":
                return f"export playbook --wave {self.wave}"
            if scope == "all":
                return "export playbook --all"
        return palette_title(self.spec, self.step, self.wave)


class ActionFlow:
    """Mixed into the app: ``request(name)`` runs the catalogue action ``name``."""

    def init_flow(self) -> None:
        self.busy: str | None = None
        """The running action or check (None when idle)."""
        self.asking = False
        """A dialog after a check waits for its answer (the keys stay greyed meanwhile)."""
        self.quit_pending = False
        """Quit was asked while an action ran: the app quits once it is done."""
        self.last_result: ActionResult | None = None
        self._secret: str | None = None  # the CA passphrase from the prompt; memory only

    def _passphrase(self) -> str | None:
        from workbench.migration.campaign import PASSPHRASE_ENV

        return os.environ.get(PASSPHRASE_ENV) or self._secret

    # --- entry ----------------------------------------------------------------------------

    def request(self, name: str, params: dict[str, Any] | None = None) -> None:
        spec = ACTIONS[name]
        if self.source.read_only:
            self.notify("read-only planning view: run `workbench tui --workspace DIR` to act")
            return
        if self.busy or self.loading:
            self.notify(f"{self.busy or 'loading'} is still running", severity="warning")
            return
        step, wave = self.selected_step, self.selected_wave
        if spec.scope != "workspace" and step is None:
            self.notify("select a step first", severity="warning")
            return
        if not spec.worker:  # evidence: a view, not a job
            self.action_show_tab("evidence")
            return
        self._next(Request(spec, step, wave, dict(params or {})))

    def _next(self, req: Request) -> None:
        if req.spec.needs_ca and not self._passphrase():
            from workbench.tui.screens.passphrase import PassphraseScreen

            self.push_screen(PassphraseScreen(), lambda secret: self._unlocked(secret, req))
        elif req.spec.form and not req.params:
            self._ask_form(req)
        elif (req.spec.needs_old_key or req.spec.confirm) and not req.checked:
            self._set_busy(f"checking {req.title}")
            self._prepare(req)
        else:
            self._start(req)

    def _unlocked(self, secret: str | None, req: Request) -> None:
        if not secret:
            self.notify("no passphrase given: nothing done", severity="warning")
            return
        self._secret = secret
        self._next(req)

    # --- parameters -----------------------------------------------------------------------

    def _ask_form(self, req: Request) -> None:
        fields = self._form_fields(req)
        if fields is None:
            return
        from workbench.tui.screens.form import FormScreen

        title = f"{req.spec.command}: {req.spec.help}"
        self.push_screen(
            FormScreen(title, fields, run_label=req.spec.command),
            lambda values: self._formed(values, req),
        )

    def _form_fields(self, req: Request) -> list[Field] | None:
        from workbench.tui.screens.form import Field

        name, step, wave = req.spec.name, req.step, req.wave
        if name == "export":
            scopes = [("the whole plan (--all)", "all")]
            if step is not None:
                scopes[:0] = [(f"--step {step}", "step"), (f"--wave {wave}", "wave")]
            default_dir = str(self.source.directory / "playbooks")
            return [
                Field("scope", "which steps", scopes),
                Field("format", "--format", [(f, f) for f in ("md", "yaml", "json", "csv")]),
                Field("directory", "--output DIR", default=default_dir),
            ]
        if name == "revoke":
            detail = self.snapshot.details.get(step) if self.snapshot and step else None
            certs = detail.certificates if detail else ()
            if not certs:
                self.notify(f"{step} has no active certificate: nothing to revoke")
                return None
            choices = [(f"{c.serial[:16]} ({c.service})", ("serial", c.serial)) for c in certs]
            choices += [
                (f"--service {s} (all its certificates)", ("service", s))
                for s in sorted({c.service for c in certs})
            ]
            return [
                Field("target", "SERIAL or --service", choices),
                Field("reason", "--reason", [(r, r) for r in REVOKE_REASONS]),
            ]
        if name == "renew":
            scopes = [("every step", "all-steps")]
            if step is not None:
                scopes.append((f"--step {step}", "step"))
            return [
                Field(
                    "before",
                    "which certificates",
                    [("--before 2d", "2d"), ("--before 7d", "7d"), ("--all (every one)", "all")],
                ),
                Field("scope", "where", scopes),
            ]
        return []

    def _formed(self, values: dict | None, req: Request) -> None:
        if values is None:
            self.notify(f"{req.spec.command} cancelled: nothing changed")
            return
        params: dict[str, Any] = dict(values)
        if req.spec.name == "revoke":
            kind, value = values["target"]
            params = {kind: value, "reason": values["reason"]}
        elif req.spec.name == "renew":
            days = {"2d": 2, "7d": 7}.get(values["before"])
            params = {
                "before": timedelta(days=days or 2),
                "all": days is None,
                "only_step": values["scope"] == "step",
            }
        elif req.spec.name == "export":
            params["directory"] = str(values["directory"]).strip()
        self._next(replace(req, params=params))

    # --- the check in a worker ------------------------------------------------------------

    def _steps_of(self, campaign, req: Request) -> list[str]:
        scope = req.params.get("scope", req.spec.scope)
        if scope == "wave":
            return campaign.wave_steps(req.wave)
        if scope == "all":
            return [s.key for s in campaign.workspace.steps()]
        if scope == "workspace":
            return []
        return [req.step]

    @work(thread=True, exclusive=True, group="check")
    def _prepare(self, req: Request) -> None:
        from workbench.tui.checks import BlockedCutover, cutover_preview, missing_old_keys, preview

        try:
            with self.source.open(self._passphrase) as campaign:
                if req.spec.needs_old_key:
                    missing = missing_old_keys(
                        campaign, self._steps_of(campaign, req), self.source.old_key_env
                    )
                    if missing:
                        self.call_from_thread(self._ask_old_key, req, *missing[0])
                        return
                if not req.spec.confirm:
                    self.call_from_thread(self._start, replace(req, checked=True))
                    return
                if req.spec.name == "cutover":
                    what = cutover_preview(campaign, req.step, req.params.get("since"))
                else:
                    what = preview(campaign, req.spec.name, req.step, req.params)
        except Exception as exc:
            known = user_error(exc)
            if known is None:
                raise
            self.call_from_thread(self._failed, req, known)
            return
        if isinstance(what, BlockedCutover):
            self.call_from_thread(self._blocked, req, what)
        else:
            self.call_from_thread(self._confirm, req, what)

    def _failed(self, req: Request, exc: WorkbenchError) -> None:
        self._set_busy(None)
        if isinstance(exc, PKIError):
            self._secret = None  # maybe a wrong passphrase: ask again next time
        self.notify(one_line(exc), title=f"{req.title} failed", severity="error")

    def _ask_old_key(self, req: Request, step: str, variable: str) -> None:

        def given(value: str | None) -> None:
            if not value:
                self.notify(
                    f"nothing run: {step}'s old key comes from ${variable}. Type it when asked "
                    f"(kept in memory only), or point the key's secret_ref at file:PATH "
                    "(mode 0600) in the inventory; either works without leaving the TUI.",
                    title=f"{req.title}: old key needed",
                    severity="warning",
                    timeout=20,
                )
                return
            self.source.old_key_env[variable] = value
            self._next(req)

        from workbench.tui.screens.secret import OldKeyScreen

        self._ask_after_check(OldKeyScreen(step, variable), given)

    def _confirm(self, req: Request, what: Preview) -> None:

        def answered(yes: bool | None) -> None:
            if yes:
                params = {**req.params, "force": True} if what.force else req.params
                self._start(replace(req, params=params, checked=True))
            else:
                self.notify(f"{req.title} cancelled: nothing changed")

        from workbench.tui.screens.confirm import ConfirmScreen

        label = req.spec.command + (" --force" if what.force else "")
        self._ask_after_check(ConfirmScreen(what.text, label), answered)

    def _blocked(self, req: Request, blocked: BlockedCutover) -> None:

        def chosen(choice: str | None) -> None:
            if choice == "since":
                params = {**req.params, "since": blocked.later_since}
            elif choice == "force":
                params = {**req.params, "force": True}
            else:
                self.notify(f"{req.title} cancelled: nothing changed")
                return
            self._start(replace(req, params=params, checked=True))

        from workbench.tui.screens.blocked import BlockedCutoverScreen

        self._ask_after_check(BlockedCutoverScreen(blocked), chosen)

    def _ask_after_check(self, screen: Any, answered: Callable[[Any], None]) -> None:
        """Show the dialog a check asked for. The spinner stops; the action keys stay greyed
        until the answer: they cannot be used behind the dialog, and Textual does not reliably
        redraw the footer of the screen under a modal, so it must not change as the dialog
        opens (it was drawn greyed or not depending on timing)."""
        self.asking = True
        self._set_busy(None)

        def done(result: Any) -> None:
            self.asking = False
            self.refresh_bindings()
            answered(result)

        self.push_screen(screen, done)

    # --- the action in a worker -----------------------------------------------------------

    def _set_busy(self, text: str | None) -> None:
        self.busy = text
        if text is None and self.quit_pending:
            self.exit()  # quit was asked while it ran: its result is recorded, go now
            return
        status = self.query_one(ActionStatus)
        if text:
            status.start(f"{text}...")
        elif not self.loading:
            status.stop()
        self.refresh_bindings()

    def _start(self, req: Request) -> None:
        self._set_busy(req.title)
        self._run(req)

    @work(thread=True, exclusive=True, group="action")
    def _run(self, req: Request) -> None:
        from workbench.tui.operations import CutoverRefused

        result: ActionResult | None = None
        snapshot: Snapshot | None = None
        status = self.query_one(ActionStatus)
        try:
            result = self.source.run(
                req.spec.name,
                req.step,
                wave=req.wave if req.params.get("scope", req.spec.scope) == "wave" else None,
                params=req.params,
                passphrase=self._passphrase,
                progress=lambda done, total: self.call_from_thread(status.advance, done, total),
            )
        except CutoverRefused as refused:
            self.call_from_thread(self._blocked, req, refused.blocked)
            return
        except Exception as exc:
            known = user_error(exc)
            if known is None:
                raise
            if isinstance(known, PKIError):
                self._secret = None  # maybe a wrong passphrase: ask again next time
            self.call_from_thread(
                self.notify, one_line(known), title=f"{req.title} failed", severity="error"
            )
        try:
            snapshot = self.source.load()
        except Exception as exc:
            known = user_error(exc)
            if known is None:
                raise
            self.call_from_thread(
                self.notify, one_line(known), title="reload failed", severity="error"
            )
        self.call_from_thread(self._finish, req, result, snapshot)

    def _finish(self, req: Request, result: ActionResult | None, snapshot: Snapshot | None) -> None:
        self._set_busy(None)
        if snapshot is not None:
            self._apply(snapshot)
        if result is None:
            return
        self.last_result = result
        message = result.message
        self.notify(
            message,
            title=req.title,
            severity="information" if result.ok else "error",
            timeout=15 if result.show else 8,
        )
        if result.show:
            self.action_show_tab(result.show)
