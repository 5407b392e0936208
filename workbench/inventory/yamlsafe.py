"""A hardened YAML reader for untrusted files (security requirement 19).

It drives libyaml's event parser (``yaml._yaml.CParser``) and builds a small located tree
itself instead of letting PyYAML compose and construct. That costs about a tenth of a
``yaml.load(..., Loader=CSafeLoader)`` and makes every hostile case a located problem:

- anchors, aliases and tags (``!!python/...``, ``!foo``, even ``!!str``) are refused;
- duplicate mapping keys are refused, naming both places;
- nesting deeper than ``MAX_DEPTH`` stops the parse at once (libyaml's parser keeps an
  explicit stack, so a 100k-level bomb never reaches recursion; the C composer would);
- input larger than ``MAX_BYTES`` is refused before parsing;
- only one document per file.

Scalars stay text: the tree holds ``Scalar(value, line, col, plain)`` tuples and the schema
layer decides what a field means. Lines and columns are 1-based.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

import yaml
from yaml._yaml import CParser

from workbench.errors import Problem
from workbench.secrets import show_value

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Scalar",
    "YMap",
    "YSeq",
    "decode_text",
    "gc_paused",
    "json_escapes_for_yaml",
    "line_col",
    "max_bytes",
    "parse_tree",
    "size_limit",
    "too_large",
]

MAX_BYTES = 64 * 1024 * 1024
"""Largest input accepted by default (64 MiB); ``--max-bytes`` raises it explicitly."""

_LIMIT: ContextVar[int] = ContextVar("workbench_max_input_bytes", default=MAX_BYTES)


def max_bytes(limit: int | None = None) -> int:
    """``limit`` if given, else the limit in force (:func:`size_limit`, default 64 MiB)."""
    return _LIMIT.get() if limit is None else limit


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large acyclic structure is built.

    A 100k-finding report makes millions of small objects; each allocation burst triggers
    a collection that walks all of them again (~35% of an import's time, and it grows
    faster than the input). The trees and model objects built here hold no reference
    cycles, so nothing is lost by collecting once afterwards instead. Nests safely.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def size_limit(limit: int | None) -> Iterator[int]:
    """Raise (or lower) the input size guard for the code run inside; None keeps it.

    The CLI wraps a command in this when the user passes ``--max-bytes``, so every
    inventory and report that command reads (its workspace's inventory too) gets the limit.
    """
    token = _LIMIT.set(max_bytes(limit))
    try:
        yield _LIMIT.get()
    finally:
        _LIMIT.reset(token)


def too_large(limit: int) -> str:
    """The message for a file over ``limit`` bytes."""
    return (
        f"file is larger than {_size_text(limit)}; split it, or raise the guard with "
        "--max-bytes (e.g. --max-bytes 256M)"
    )


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted."""


class Scalar(NamedTuple):
    """A scalar as written: its text, where it starts, and whether it was unquoted."""

    value: str
    line: int
    col: int
    plain: bool


class YMap(dict):
    """A mapping of key text to node, with its own position and each key's position."""

    __slots__ = ("line", "col", "keypos")

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.line = line
        self.col = col
        self.keypos: dict[str, tuple[int, int]] = {}


class YSeq(list):
    """A sequence of nodes with its position."""

    __slots__ = ("line", "col")

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.line = line
        self.col = col


Node = Scalar | YMap | YSeq


class _Abort(Exception):
    pass


def decode_text(
    data: bytes, filename: str, *, limit: int | None = None
) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of ``data`` (BOM dropped; UTF-16 when it starts with its BOM), or a located
    problem: size first, then encoding."""
    limit = max_bytes(limit)
    if len(data) > limit:
        return None, [Problem(filename, 0, 0, too_large(limit))]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 with its BOM: what Windows PowerShell's `>` writes (gitleaks ... > r.json)
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            msg = "not valid UTF-16 though it starts with its byte-order mark; save it as UTF-8"
            return None, [Problem(filename, 1, 1, msg)]
    nul = data.find(b"\x00")
    if nul >= 0:  # no text format here holds NUL: UTF-16 without its BOM, or not text
        line = data.count(b"\n", 0, nul) + 1
        col = len(data[data.rfind(b"\n", 0, nul) + 1 : nul].decode("utf-8", "replace")) + 1
        msg = "a NUL character: not text (UTF-16 without a byte-order mark?); save it as UTF-8"
        return None, [Problem(filename, line, col, msg)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        return None, [Problem(filename, line, col, msg)]
    return text.removeprefix("\ufeff"), []


# A JSON string may hold a character beyond U+FFFF as a UTF-16 surrogate pair
# ("\ud83d\ude00": Python's json.dump, and so detect-secrets, writes every emoji in a file
# name that way); YAML refuses surrogate escapes. \UXXXXXXXX is the same character to YAML.
_SURROGATE_PAIR = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
)


def _one_escape(m: re.Match) -> str:
    high, low = int(m[2], 16), int(m[3], 16)
    return f"{m[1]}\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"


def json_escapes_for_yaml(text: str) -> str:
    """``text`` (JSON) with each surrogate-pair escape written as YAML's ``\\U`` escape.

    Only for JSON, where every backslash sequence is inside a double-quoted string: in
    YAML's plain or single-quoted scalars a backslash is literal.
    """
    if "\\u" not in text or not _SURROGATE_PAIR.search(text):
        return text
    return _SURROGATE_PAIR.sub(_one_escape, text)


def parse_tree(
    text: str,
    filename: str,
    *,
    limit: int | None = None,
    only: frozenset[str] | None = None,
) -> tuple[Node | None, list[Problem]]:
    """Parse one YAML (or JSON) document into a located tree; collect every problem.

    ``only``: the fields (lower case) kept in the mappings of a top-level list, the rest
    read and dropped: a 50k-finding gitleaks report made a 300 MB tree, mostly fields no
    importer reads (``Match`` and ``Message``). A dropped field's duplicate is not reported.
    Returns ``(None, problems)`` when the file is empty or could not be read to the end.
    """
    problems: list[Problem] = []
    limit = max_bytes(limit)
    if len(text) > limit:
        return None, [Problem(filename, 0, 0, too_large(limit))]
    root: list[Node] = []
    try:
        _walk(CParser(text), filename, problems, root, only)
    except _Abort:
        return None, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = "; ".join(p for p in (exc.problem, exc.context) if p)
        message = f"YAML syntax error: {what}; fix the syntax"
        if _char_at(text, line, col) == "\t":
            message = "a tab: YAML indents with spaces, never tabs; replace it with spaces"
        problems.append(Problem(filename, line, col, message))
        return None, problems
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        pos = getattr(exc, "position", 0) or 0
        line, col = line_col(text, pos)
        problems.append(Problem(filename, line, col, "character not allowed in YAML; remove it"))
        return None, problems
    return (root[0] if root else None), problems


def _char_at(text: str, line: int, col: int) -> str:
    """The character at 1-based ``line``, ``col`` of ``text`` ("" when out of range)."""
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    pos = start + col - 1
    return text[pos] if col > 0 and pos < len(text) else ""


def line_col(text: str, pos: int) -> tuple[int, int]:
    pos = min(pos, len(text))
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _walk(
    parser: CParser,
    filename: str,
    problems: list[Problem],
    root: list[Node],
    only: frozenset[str] | None = None,
) -> None:
    """Consume the event stream. One loop, no recursion; hot path first."""
    stack: list[YMap | YSeq] = []
    keys: list[Scalar | None] = []  # per open mapping: the key awaiting its value
    add = problems.append

    # A billion-laughs file holds hundreds of anchors and aliases: one problem, the first,
    # with a count of the others, instead of one line each.
    first: dict[str, int] = {}  # message -> index in problems
    repeats: dict[str, int] = {}

    def once(line: int, col: int, message: str) -> None:
        if message in first:
            repeats[message] = repeats.get(message, 0) + 1
        else:
            first[message] = len(problems)
            add(Problem(filename, line, col, message))

    def hostile(event, line: int, col: int) -> None:
        if event.anchor is not None:
            once(line, col, _NO_ALIASES)
        if event.tag is not None:
            once(line, col, "tags (!...) are not allowed; remove the tag")

    try:
        _events(parser, filename, problems, root, stack, keys, hostile, once, only)
    finally:
        for message, more in repeats.items():
            p = problems[first[message]]
            problems[first[message]] = Problem(
                p.file, p.line, p.col, f"{message} ({more} more in this file)"
            )


_NO_ALIASES = "anchors (&name) and aliases (*name) are not allowed; write the values out"


def _events(parser, filename, problems, root, stack, keys, hostile, once, only) -> None:  # noqa: ANN001
    """The event loop of ``_walk`` (its state passed in, so problems can be summed up after)."""
    documents = 0
    scalar_event = yaml.ScalarEvent
    add = problems.append
    while True:
        event = parser.get_event()
        cls = type(event)
        if cls is scalar_event:
            mark = event.start_mark
            node: Node = Scalar(event.value, mark.line + 1, mark.column + 1, event.implicit[0])
            if event.anchor is not None or event.tag is not None:
                hostile(event, node.line, node.col)
        elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
            mark = event.start_mark
            line, col = mark.line + 1, mark.column + 1
            if len(stack) >= MAX_DEPTH:
                add(Problem(filename, line, col, f"nested deeper than {MAX_DEPTH} levels; flatten"))
                raise _Abort
            if event.anchor is not None or event.tag is not None:
                hostile(event, line, col)
            node = YMap(line, col) if cls is yaml.MappingStartEvent else YSeq(line, col)
        elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
            done = stack.pop()
            if type(done) is YMap:
                keys.pop()
            continue
        elif cls is yaml.AliasEvent:
            mark = event.start_mark
            line, col = mark.line + 1, mark.column + 1
            once(line, col, _NO_ALIASES)
            node = Scalar("", line, col, True)
        elif cls is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                mark = event.start_mark
                add(
                    Problem(
                        filename,
                        mark.line + 1,
                        mark.column + 1,
                        "more than one YAML document; keep one per file",
                    )
                )
                raise _Abort
            continue
        elif cls is yaml.StreamEndEvent or event is None:
            return
        else:
            continue
        # Attach ``node`` to its parent.
        if not stack:
            root.append(node)
        else:
            parent = stack[-1]
            if type(parent) is YSeq:
                parent.append(node)
            else:
                key = keys[-1]
                if key is None:
                    if type(node) is not Scalar:
                        add(
                            Problem(
                                filename,
                                node.line,
                                node.col,
                                "mapping keys must be plain names, not lists or mappings",
                            )
                        )
                        raise _Abort
                    keys[-1] = node
                else:
                    name = key.value
                    if (
                        only is not None
                        and len(stack) == 2
                        and type(stack[0]) is YSeq
                        and name.lower() not in only
                    ):
                        pass  # a field no importer reads: built (its events), then dropped
                    elif name in parent:
                        first = parent.keypos[name]
                        add(
                            Problem(
                                filename,
                                key.line,
                                key.col,
                                f"duplicate key {show_value(name)} (first at line {first[0]}, "
                                f"column {first[1]}); keep one",
                            )
                        )
                    else:
                        parent[name] = node
                        parent.keypos[name] = (key.line, key.col)
                    keys[-1] = None
        if type(node) is not Scalar:
            stack.append(node)
            if type(node) is YMap:
                keys.append(None)
