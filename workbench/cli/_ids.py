"""The CLI edge for ids and errors: unknown ids in one line, errors as JSON with ``--json``.

``check_ids`` runs before any command that takes ``--step``, ``--wave`` or ``--service``
with a workspace: an id the workspace does not know stops the command before it does
anything, with the nearest known ids (``UnknownIdError``, exit 2). ``report_error`` prints
a ``WorkbenchError`` as its one-line messages, or as one JSON object on stderr
(``{"error": ..., "location": ...}``) when the command was asked for ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from workbench.errors import InputError, UnknownIdError, WorkbenchError

__all__ = ["check_ids", "error_document", "report_error"]


def _as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def check_ids(args: argparse.Namespace) -> None:
    """Refuse ``--step``/``--wave``/``--service`` values the workspace does not know."""
    steps = [s for s in _as_list(getattr(args, "step", None)) if isinstance(s, str)]
    waves = [w for w in _as_list(getattr(args, "wave", None)) if isinstance(w, int)]
    services = [s for s in _as_list(getattr(args, "service", None)) if isinstance(s, str)]
    directory = getattr(args, "workspace", None)
    if not (steps or waves or services) or not isinstance(directory, Path):
        return
    from workbench.workspace.store import DB_FILE, Workspace

    if not (directory / DB_FILE).is_file():
        return  # the command itself says there is no workspace
    with Workspace.open(directory) as ws:
        rows = ws.connection.execute("SELECT key, wave, consumers FROM steps").fetchall()
        known_services = {r[0] for r in ws.connection.execute("SELECT service FROM certificates")}
    known_steps = [r[0] for r in rows]
    known_waves = {r[1] for r in rows}
    for r in rows:
        known_services.update(json.loads(r[2] or "[]"))
    _refuse("step", steps, known_steps, "--step")
    _refuse("wave", waves, known_waves, "--wave")
    _refuse("service", services, known_services, "--service")


def _refuse(what: str, given: list, known: Iterable[object], option: str) -> None:
    known = set(known)
    for value in given:
        if value not in known:
            raise UnknownIdError(what, value, known, location=option)


def error_document(exc: WorkbenchError) -> dict:
    """``{"error": ..., "location": ...}`` (plus every problem when there are several)."""
    if isinstance(exc, InputError) and exc.problems:
        items = [
            {
                "error": p.message,
                "location": None
                if (p.file == "-" and not p.line)
                else f"{p.file}:{p.line}:{p.col}",
            }
            for p in exc.problems
        ]
        doc = dict(items[0])
        if len(items) > 1:
            doc["problems"] = items
        return doc
    doc = {"error": str(exc), "location": getattr(exc, "location", None)}
    if isinstance(exc, UnknownIdError):
        doc.update(kind=exc.what, id=exc.value, nearest=exc.nearest)
    return doc


def report_error(exc: WorkbenchError, *, as_json: bool) -> None:
    """Print ``exc`` on stderr: one line per problem, or one JSON object."""
    if as_json:
        print(json.dumps(error_document(exc)), file=sys.stderr)
        return
    for line in exc.lines():
        print(line, file=sys.stderr)
