"""JSON is JSON: a report or inventory written as JSON must be strict JSON, not JSON5.

The located tree is built by the YAML reader (``yamlsafe``), and YAML's flow style takes
what JSON refuses: a trailing comma (``[1, 2,]``), ``# comments``, single quotes, bare
words. A hand-edited report that only loads because YAML is lenient would load differently
in every other tool, so JSON-shaped input is first checked by Python's own JSON parser,
with every object reduced to nothing (no tree is kept: ~0.3 s and little memory for
20 MB). A failure is one located line that says what to fix.
"""

from __future__ import annotations

import json
import re

from workbench.errors import Problem
from workbench.inventory.yamlsafe import line_col

__all__ = ["comment_problem", "looks_like_json", "strict_json_problem"]

_JSON_SHAPED = re.compile(r"\s*(?:\[|\{\s*[\"}#/])")
_COMMENT_START = re.compile(r"\s*(?://|/\*)")


def looks_like_json(text: str) -> bool:
    """True when ``text`` opens as JSON does: ``[``, or ``{`` then a quoted key, ``}`` or a
    comment (``#``, ``//``) that YAML would take and JSON would not.

    A YAML flow mapping with bare keys (``{version: 1}``) is YAML, and stays YAML.
    """
    return _JSON_SHAPED.match(text, 0, 256) is not None


def comment_problem(text: str, filename: str) -> Problem | None:
    """A located problem when ``text`` opens with a ``//`` or ``/*`` comment (JSONC)."""
    m = _COMMENT_START.match(text, 0, 4096)
    if m is None:
        return None
    line, col = line_col(text, m.end() - 2)
    return Problem(filename, line, col, _COMMENT)


_COMMENT = "a comment: JSON has no comments (// /* #); remove it"


def _none(_pairs: object) -> None:
    return None


def strict_json_problem(text: str, filename: str) -> Problem | None:
    """None when ``text`` is one strict JSON value, else the located first mistake.

    Too deep a nesting and a number too long for ``int`` are not reported here: the tree
    reader says those in its own words (nesting limit, field type).
    """
    try:
        json.loads(text, object_pairs_hook=_none)
    except json.JSONDecodeError as exc:
        where, message = _explain(exc)
        line, col = line_col(text, where)
        return Problem(filename, line, col, message)
    except (RecursionError, ValueError):
        return None
    return None


def _explain(exc: json.JSONDecodeError) -> tuple[int, str]:
    """(position, message) of a JSON mistake: the comma itself for a trailing comma."""
    text, pos = exc.doc, exc.pos
    here = text[pos : pos + 2]
    before = text[:pos].rstrip()
    if here.startswith(("//", "/*", "#")):
        return pos, _COMMENT
    if here[:1] in ("}", "]") and before.endswith(","):
        return len(before) - 1, f"a trailing comma before '{here[0]}': JSON allows none; remove it"
    if exc.msg == "Extra data" and before.endswith("}") and text[pos : pos + 1] == "{":
        return pos, (
            "one JSON object per line (JSON Lines, as trufflehog --json writes), not one "
            "JSON document; for trufflehog use 'workbench import trufflehog'"
        )
    if exc.msg == "Extra data":
        return pos, "JSON syntax error: more than one JSON value (one appended?); keep one"
    if pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return pos, "JSON syntax error: the file ends before the JSON does (cut short?)"
    if here[:1] == "'":
        return pos, "JSON syntax error: single quotes; JSON strings use double quotes"
    return pos, f"JSON syntax error: {exc.msg}; fix the syntax"
