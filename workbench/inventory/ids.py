"""The safe-id rule (security requirement 21), shared by the inventory and the workspace.

Ids become file names, SPIFFE path segments and ticket references, so they use a small
ASCII alphabet: lowercase letters, digits, ``.``, ``_`` and ``-``, starting with a letter or
digit, at most 63 characters, never ``..``. That excludes ``/``, NUL, bidi controls and
look-alike (non-ASCII) letters by construction.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["SAFE_ID_PATTERN", "SAFE_ID_RULE", "explain_unsafe_id", "is_safe_id", "slugify_id"]

SAFE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
"""Use with ``fullmatch`` (``$`` alone would accept a trailing newline); see ``is_safe_id``."""

SAFE_ID_RULE = (
    "ids use only a-z 0-9 . _ - (lowercase ASCII, starting with a letter or digit, "
    "at most 63 characters, no '..')"
)
"""The rule in words, for error messages."""

_BAD_RUN = re.compile(r"[^a-z0-9._-]+")


def is_safe_id(value: object) -> bool:
    """True when ``value`` is a string that may become a file name or path segment."""
    return (
        isinstance(value, str)
        and SAFE_ID_PATTERN.fullmatch(value) is not None
        and ".." not in value
    )


def explain_unsafe_id(value: str) -> str:
    """Why ``value`` is not a safe id, in a few words (never echoes the value)."""
    if not value:
        return "is empty"
    if len(value) > 63:
        return f"is {len(value)} characters long (at most 63)"
    for ch in value:
        if ch in "\x00":
            return "contains a NUL character"
        if ch == "/" or ch == "\\":
            return "contains a path separator"
        if not ch.isascii():
            kind = "bidi control" if unicodedata.bidirectional(ch) in _BIDI else "non-ASCII"
            return f"contains {kind} character U+{ord(ch):04X}"
        if ch.isupper():
            return "contains uppercase letters"
        if not (ch.isalnum() or ch in "._-"):
            return f"contains {ch!r}"
    if ".." in value:
        return "contains '..'"
    return "must start with a letter or digit"


_BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "AL", "R"}


def slugify_id(text: str, *, max_len: int = 63, fallback: str = "x") -> str:
    """A safe id derived from arbitrary text (lowercased, other runs become ``-``)."""
    slug = _BAD_RUN.sub("-", text.lower()).strip("-._")
    while ".." in slug:
        slug = slug.replace("..", ".")
    slug = slug[:max_len].rstrip("-._")
    return slug if is_safe_id(slug) else fallback
