"""How an error reaches the TUI's screen: one line, never a traceback (no Textual here)."""

from __future__ import annotations

from workbench.errors import WorkbenchError

__all__ = ["one_line", "user_error"]


def one_line(exc: BaseException) -> str:
    """The error's first line, with a count of the others (notifications stay one line)."""
    lines = exc.lines() if isinstance(exc, WorkbenchError) else [str(exc)]
    lines = lines or [type(exc).__name__]
    more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
    return lines[0] + more


def user_error(exc: Exception) -> WorkbenchError | None:
    """``exc`` as the one-line error a user can cause, None for a bug. Besides the
    workbench's own errors: a workspace database that is damaged or locked (SQLite raises
    its own errors for those, deep inside any read)."""
    if isinstance(exc, WorkbenchError):
        return exc
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError):
        from workbench.workspace.schema import database_error

        return database_error(exc)
    return None
