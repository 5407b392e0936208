"""Commands and probes of a ticket: what an engineer runs, and what proves it worked."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from workbench.errors import PlaybookError
from workbench.playbook._checks import EXPECTATIONS, _check, _items

__all__ = [
    "DEFAULT_PROBES",
    "DEFAULT_ROLLBACK_PROBES",
    "Command",
    "CommandSet",
    "ProbeSpec",
    "default_commands",
]


@dataclass(frozen=True)
class Command:
    """One command an engineer runs, with what it is for."""

    description: str
    """What it does, for humans."""
    command: str
    """The exact command line (one line)."""
    files: tuple[str, ...] = ()
    """Rendered config files it uses or installs."""

    def __post_init__(self) -> None:
        _check(self, text=("description", "command"), tuples=("files",))
        _items("Command", "files", self.files, str)


@dataclass(frozen=True)
class CommandSet:
    """The commands of a ticket, by phase."""

    precheck: tuple[Command, ...]
    """Run before the change; all must succeed."""
    change: tuple[Command, ...]
    """The change itself, in order."""
    verify: tuple[Command, ...]
    """Proof that the change worked (fail closed)."""
    rollback: tuple[Command, ...]
    """Back to ``dual``: the old key is accepted again."""
    rollback_verify: tuple[Command, ...]
    """Proof that the rollback worked."""

    def __post_init__(self) -> None:
        for name in ("precheck", "change", "verify", "rollback", "rollback_verify"):
            _check(self, tuples=(name,))
            _items("CommandSet", name, getattr(self, name), Command)


def default_commands(step_key: str, workspace: str | None = None) -> CommandSet:
    """The workbench commands for one step (workspace path shell-quoted)."""
    ws = f" --workspace {shlex.quote(workspace)}" if workspace else ""
    k = shlex.quote(step_key)
    dual = Command(
        "Put the gateway in dual mode: key and certificate both accepted",
        f"workbench gateway set-mode{ws} --step {k} dual",
    )
    return CommandSet(
        precheck=(
            dual,
            Command("Show who still uses the old key", f"workbench usage{ws} --step {k}"),
        ),
        change=(
            Command(
                "Cut over: the gateway accepts the certificate only; the old key is refused",
                f"workbench cutover{ws} --step {k}",
            ),
        ),
        verify=(
            Command("Run every probe against the gateway", f"workbench verify{ws} --step {k}"),
        ),
        rollback=(
            Command(
                "Back to dual mode: the old key is accepted again",
                f"workbench gateway set-mode{ws} --step {k} dual",
            ),
        ),
        rollback_verify=(
            Command(
                "Confirm the old key is accepted again and the certificate still works",
                f"workbench usage{ws} --step {k}",
            ),
        ),
    )


@dataclass(frozen=True)
class ProbeSpec:
    """A probe the verifier runs, with the outcome that proves the step."""

    name: str
    """Probe name (``positive-control``, ``old-key-only``, ``no-credentials`` ...)."""
    expected: str
    """``accepted`` or ``refused``."""
    description: str
    """What it sends."""

    def __post_init__(self) -> None:
        _check(self, text=("name", "expected", "description"))
        if self.expected not in EXPECTATIONS:
            raise PlaybookError(f"ProbeSpec.expected must be one of {', '.join(EXPECTATIONS)}")


DEFAULT_PROBES = (
    ProbeSpec("positive-control", "accepted", "request with the new client certificate"),
    ProbeSpec("old-key-only", "refused", "request with the old static key and no certificate"),
    ProbeSpec("no-credentials", "refused", "request with neither key nor certificate"),
)
"""The verifier's required probes after a cut-over (requirement 14)."""

DEFAULT_ROLLBACK_PROBES = (
    ProbeSpec("positive-control", "accepted", "request with the new client certificate"),
    ProbeSpec("old-key-only", "accepted", "request with the old static key (dual mode)"),
)
"""What dual mode must show after a rollback."""
