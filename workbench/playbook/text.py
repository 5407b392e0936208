"""Make user text safe for each export format (security requirement 22). Pure functions.

Policy, decided once for every format:

- :func:`clean` runs on all user text before any format sees it: control characters, line and
  paragraph separators become a space; bidi controls and other invisible format characters
  (Unicode category ``Cf``: U+202E, U+2066, zero-width joiners ...) become U+FFFD, so a
  reviewer sees that something was there and a "Trojan Source" reordering cannot happen.
- Markdown (:func:`md_escape`): every ASCII punctuation that can start markup is
  backslash-escaped, including ``:`` and ``@`` so no autolink (``https://x``, ``www.x``,
  ``a@b``) forms; ``&``, ``<`` and ``>`` become entities, so no raw HTML or entity survives.
- Code in Markdown (:func:`md_code`, :func:`md_code_block`): the backtick fence is longer than
  any backtick run inside, so the text cannot close its own span or block.
- CSV (:func:`csv_cell`): OWASP's rule, a cell whose first character is ``= + - @ TAB CR`` gets
  a leading ``'``; we also apply it when that character follows leading whitespace, because
  some spreadsheets trim before they evaluate (the cost: a harmless quote on `` -x``).
- Mermaid (:func:`mermaid_label`): labels keep letters, digits and `` ._:/@-`` only, then are
  double-quoted; nothing else can end a label, a line or the fenced block.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MdSafe",
    "clean",
    "csv_cell",
    "md_code",
    "md_code_block",
    "md_escape",
    "mermaid_label",
]

_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~:@$^=\"'")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_MERMAID_OK = re.compile(r"[^\w .:/@-]", re.UNICODE)


class MdSafe(str):
    """Markdown produced by this module's builders; the template finalizer passes it as is."""

    __slots__ = ()


def clean(text: str) -> str:
    """One line of visible text: controls and separators -> space, invisible formats -> U+FFFD."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029" or cat == "Cc":
            out.append(" ")
        elif cat in ("Cf", "Co", "Cs", "Cn"):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def md_escape(text: object) -> str:
    """User text as inert Markdown: no markup, link, autolink, HTML or entity survives."""
    s = clean("" if text is None else str(text))
    return "".join(_MD_ENTITIES.get(ch) or ("\\" + ch if ch in _MD_SPECIAL else ch) for ch in s)


def _fence_len(text: str, minimum: int) -> int:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return max(minimum, longest + 1)


def md_code(text: object) -> MdSafe:
    """An inline code span holding ``text`` verbatim (one line)."""
    s = clean(str(text))
    fence = "`" * _fence_len(s, 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return MdSafe(f"{fence}{pad}{s}{pad}{fence}")


def md_code_block(text: object, lang: str = "", indent: int = 0) -> MdSafe:
    """A fenced code block holding ``text`` (each line cleaned), indented by ``indent`` spaces."""
    lines = [clean(line) for line in str(text).splitlines()] or [""]
    fence = "`" * _fence_len("\n".join(lines), 3)
    lang = re.sub(r"[^a-z0-9]", "", lang.lower())
    pad = " " * indent
    body = "\n".join(pad + line for line in lines)
    return MdSafe(f"{pad}{fence}{lang}\n{body}\n{pad}{fence}")


def csv_cell(value: object, *, multiline: bool = False) -> str:
    """A CSV cell that no spreadsheet evaluates as a formula."""
    s = "" if value is None else str(value)
    s = "\n".join(clean(line) for line in s.splitlines()) if multiline else clean(s)
    if s.lstrip(" ").startswith(_CSV_TRIGGERS):
        s = "'" + s
    return s


def mermaid_label(text: object, limit: int = 60) -> str:
    """A double-quoted Mermaid label: only word characters and `` ._:/@-`` survive."""
    s = _MERMAID_OK.sub("", clean(str(text))).strip()[:limit]
    return f'"{s or "?"}"'
