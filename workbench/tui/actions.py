"""The TUI's action catalogue: every CLI action, named with the CLI's words (no Textual here).

One :class:`ActionSpec` per action; the command palette, the key bindings, the confirmation
dialogs and the workers all read this table, so an action is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.states import GatewayMode

__all__ = [
    "ACTIONS",
    "GATEWAY_MODES",
    "MODE_MEANING",
    "SPOKEN",
    "ActionSpec",
    "palette_title",
    "spoken",
]

GATEWAY_MODES = tuple(GatewayMode)
MODE_MEANING = {
    GatewayMode.KEY: "accepts the static key only (no certificate asked for)",
    GatewayMode.DUAL: "accepts a client certificate or the old key (the overlap)",
    GatewayMode.MTLS: "accepts client certificates only: the step's old key is refused",
    GatewayMode.MTLS_TOKEN: "wants a client certificate plus a certificate-bound access token",
}


@dataclass(frozen=True)
class ActionSpec:
    """One action the TUI can run."""

    name: str
    """Internal id (``issue``, ``set-mode:dual``, ``verify-wave``, ...)."""
    command: str
    """The CLI's words for it (``gateway set-mode dual``)."""
    help: str
    """One line: what it does."""
    scope: str = "step"
    """``step`` (the selected step), ``wave`` (the selected step's wave) or ``workspace``."""
    needs_ca: bool = False
    """Unlocks the CA key (asks for the passphrase when it is not in the environment)."""
    needs_old_key: bool = False
    """Reads the step's old key (asks for a missing ``env:`` value first)."""
    confirm: bool = False
    """Changes a gateway or revokes: shows what it will do and asks first."""
    form: str | None = None
    """Asks for parameters first (``export``, ``revoke``, ``renew``)."""
    worker: bool = True
    """Runs in a worker (False: only switches the view)."""


def _mode(mode: str) -> ActionSpec:
    return ActionSpec(
        f"set-mode:{mode}",
        f"gateway set-mode {mode}",
        f"the step's API {MODE_MEANING[mode]}",
        confirm=True,
    )


ACTIONS: dict[str, ActionSpec] = {
    a.name: a
    for a in (
        ActionSpec(
            "issue",
            "issue",
            "a client certificate for every consumer of the step",
            needs_ca=True,
        ),
        ActionSpec(
            "issue-wave",
            "issue",
            "client certificates for every consumer of every step of the wave",
            scope="wave",
            needs_ca=True,
        ),
        ActionSpec("render", "render", "client and gateway configs for the step (all formats)"),
        *(_mode(m) for m in GATEWAY_MODES),
        ActionSpec(
            "usage", "usage", "who still sends the step's old key (gateway log)", needs_old_key=True
        ),
        ActionSpec(
            "cutover",
            "cutover",
            "check usage, retire the old key, verify, roll back unless PASS",
            needs_ca=True,
            needs_old_key=True,
            confirm=True,
        ),
        ActionSpec(
            "verify",
            "verify",
            "probe the step's API and record the verdict",
            needs_ca=True,
            needs_old_key=True,
        ),
        ActionSpec(
            "verify-wave",
            "verify",
            "probe every step of the wave and record each verdict",
            scope="wave",
            needs_ca=True,
            needs_old_key=True,
        ),
        ActionSpec(
            "evidence", "evidence", "show the step's latest recorded verification", worker=False
        ),
        ActionSpec(
            "export",
            "export playbook",
            "change tickets (md, yaml, json or csv) for the step, its wave or the whole plan",
            scope="workspace",
            needs_old_key=True,
            form="export",
        ),
        ActionSpec(
            "revoke",
            "revoke",
            "revoke a certificate of the step (or all of a service's) and publish CRLs",
            needs_ca=True,
            confirm=True,
            form="revoke",
        ),
        ActionSpec(
            "renew",
            "renew",
            "re-issue client certificates that expire soon",
            scope="workspace",
            needs_ca=True,
            form="renew",
        ),
        ActionSpec("crl", "crl", "publish CRLs for the issuing CA and the root", "workspace", True),
        ActionSpec(
            "audit-verify",
            "audit verify",
            "check the audit log's hash chain against audit.jsonl",
            scope="workspace",
        ),
    )
}


def palette_title(spec: ActionSpec, step: str | None, wave: int | None) -> str:
    """``gateway set-mode dual --step pay-key-prod``: the CLI line the action amounts to."""
    if spec.scope == "step":
        return f"{spec.command} --step {step or 'KEY'}"
    if spec.scope == "wave":
        return f"{spec.command} --wave {wave if wave is not None else 'N'}"
    return spec.command


SPOKEN = {"cutover": "cut over", "set-mode": "set mode"}
"""CLI words as people also type them: the palette finds ``cutover`` for "cut over"."""


def spoken(title: str) -> str:
    """``title`` with its CLI words as they are said (``cut over --step KEY``)."""
    for word, said in SPOKEN.items():
        title = title.replace(word, said)
    return title
