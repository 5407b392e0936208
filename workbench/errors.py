"""One error hierarchy for the whole workbench.

Library code raises these; only the CLI edge turns them into one-line messages and exit
statuses. Messages never contain secret values (security requirement 11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AuditError",
    "ConfigRenderError",
    "CutoverBlocked",
    "GatewayError",
    "ImportReportError",
    "InputError",
    "InventoryError",
    "PKIError",
    "PlaybookError",
    "PolicyError",
    "Problem",
    "SampleEnvError",
    "TokenError",
    "UnknownIdError",
    "UnsafePathError",
    "VerifyError",
    "WorkbenchError",
    "WorkspaceError",
]


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file, printed as ``FILE:LINE:COL: message``."""

    file: str
    """Path of the file as the user named it."""
    line: int
    """1-based line number (0 when the problem concerns the whole file)."""
    col: int
    """1-based column number (0 when unknown)."""
    message: str
    """What is wrong and how to fix it; never contains a secret value."""

    def __str__(self) -> str:
        if self.file == "-" and not self.line:
            return self.message  # not about a file: no location to show
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose.

    ``exit_status`` is what the CLI exits with: 2 for bad input or usage (the default),
    1 for a check that ran and failed.
    """

    exit_status: int = 2

    def lines(self) -> list[str]:
        """The one-line messages the CLI prints to stderr."""
        return [str(self)]


class InputError(WorkbenchError):
    """Bad input: one or more located problems. Nothing was written."""

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str = "-") -> None:
        if isinstance(problems, str):
            problems = [Problem(file, 0, 0, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class InventoryError(InputError):
    """The inventory file is malformed, hostile or inconsistent."""


class PolicyError(InputError):
    """The scoring policy file is malformed."""


class ImportReportError(InputError):
    """A scanner report or CSV could not be imported."""


class UnknownIdError(WorkbenchError, KeyError):
    """An id (step, wave, service, api, key) that does not exist; names the nearest known ones.

    Also a ``KeyError``, so code that looked ids up in a mapping keeps working.
    """

    def __init__(
        self, what: str, value: object, known: Iterable[object], *, location: str | None = None
    ) -> None:
        import difflib

        names = sorted({str(k) for k in known})
        near = difflib.get_close_matches(str(value), names, n=3, cutoff=0.5)
        if near:
            hint = f"nearest: {', '.join(near)}"
        elif names:
            more = f" (+{len(names) - 5} more)" if len(names) > 5 else ""
            hint = f"known: {', '.join(names[:5])}{more}"
        else:
            hint = f"there are no {what}s yet"
        self.what, self.value, self.nearest, self.location = what, str(value), near, location
        message = f"unknown {what} {str(value)!r}; {hint}"
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message  # not KeyError's repr-quoted form


class UnsafePathError(WorkbenchError):
    """A name would become a path outside its directory, or a symlink was planted (req. 9, 21)."""


class WorkspaceError(WorkbenchError):
    """The workspace is missing, locked, or inconsistent."""


class AuditError(WorkspaceError):
    """The audit log cannot be written or its hash chain is broken."""


class PKIError(WorkbenchError):
    """Certificate authority or issuance problem (missing passphrase, bad key, ...)."""


class GatewayError(WorkbenchError):
    """A gateway config could not be rendered, validated, applied or reloaded."""


class CutoverBlocked(GatewayError):
    """A cut-over refused by its pre-check (the old key is still in use): a failed check."""

    exit_status = 1


class SampleEnvError(WorkbenchError):
    """The sample environment could not start, stop or report its state."""


class VerifyError(WorkbenchError):
    """The verifier could not run (bad arguments, environment mismatch, ...).

    A verifier that ran and saw a failure does not raise: it returns a FAIL verdict.
    """


class ConfigRenderError(WorkbenchError):
    """A client or gateway config could not be rendered."""


class TokenError(WorkbenchError):
    """A token could not be made or linted (refused algorithm, bad key, ...)."""


class PlaybookError(WorkbenchError):
    """A playbook could not be exported."""
