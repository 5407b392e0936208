"""Jinja filters: every value a template places goes through one, for that file's syntax.

Requirement 27: a value from the inventory, the workspace or the command line must never
end a line, a string, a comment or a statement early, so a rendered config only ever holds
the directives its template wrote. Each filter either writes the value so the target syntax
reads it back unchanged (quoting and escaping), or refuses it with a
:class:`ConfigRenderError` naming what to change. :func:`finalize` makes the rule hold for
every ``{{ ... }}``: a value that went through no filter stops the render (a template bug).

Filters by syntax: ``nginx`` / ``nginx_url`` (nginx tokens), ``haproxy`` (HAProxy words),
``yaml`` and ``code`` (double-quoted literals for YAML, Python, JavaScript and Go), ``curl``
(curl config strings), ``sh`` (one shell word), ``env`` (a value in an env file that is
sourced by a shell), ``jvm`` (a ``-Dname=value`` inside ``JAVA_TOOL_OPTIONS``), ``comment``
(text after ``#`` or ``//``), ``ident`` (a safe id, valid anywhere), ``bare`` (a token that
needs no quoting anywhere), ``b64`` (base64 data).
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from urllib.parse import quote

from workbench.errors import ConfigRenderError
from workbench.inventory.ids import is_safe_id

__all__ = ["FILTERS", "Filtered", "finalize"]


class Filtered(str):
    """Text a filter has made safe for its target syntax (what :func:`finalize` lets through)."""

    __slots__ = ()


_BARE = re.compile(r"[A-Za-z0-9_./@+:-]+")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
# Characters RFC 3986 allows; nginx reads "$" as a variable even inside quotes.
_URL_SAFE = "/:@!&'()*+,;=-._~%?[]"
# Every control, format, surrogate, private-use, unassigned and line/paragraph separator
# character: each can end a line in some syntax (YAML 1.1 and JavaScript break lines on
# U+2028/U+2029 and U+0085) or make text read differently from how it looks.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def _text(value: object, what: str) -> str:
    text = str(value)
    if not (text.isascii() and text.isprintable()):
        for ch in text:
            if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
                raise ConfigRenderError(
                    f"a value for {what} has control or invisible character U+{ord(ch):04X}: "
                    "remove it from the inventory (or the path) and render again"
                )
    return text


def _refuse(text: str, what: str, allowed: str) -> ConfigRenderError:
    return ConfigRenderError(
        f"{what} cannot carry {text!r}: use only {allowed} "
        "(rename it, move the workspace, or choose another format)"
    )


def bare(value: object) -> Filtered:
    """A token every syntax here reads as one word without quotes: ``[A-Za-z0-9_./@+:-]``."""
    text = _text(value, "a config")
    if not _BARE.fullmatch(text):
        raise _refuse(text, "an unquoted config token", "[A-Za-z0-9_./@+:-]")
    return Filtered(text)


def ident(value: object) -> Filtered:
    """A safe id (``a-z 0-9 . _ -``): valid inside any string, comment or name here."""
    text = str(value)
    if not is_safe_id(text):
        raise _refuse(text, "a name", "a-z 0-9 . _ - (a safe id)")
    return Filtered(text)


def nginx(value: object) -> Filtered:
    """One nginx argument: bare when possible, else a double-quoted string with escapes.

    nginx has no escape for ``$`` (it starts a variable, quoted or not): refused.
    """
    text = _text(value, "an nginx config")
    if "$" in text:
        raise _refuse(text, "an nginx config ('$' starts a variable)", "characters other than $")
    if _BARE.fullmatch(text):
        return Filtered(text)
    return Filtered('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')


def nginx_url(value: object) -> Filtered:
    """A URL as one nginx argument; ``$`` (and anything outside RFC 3986) percent-encoded."""
    return nginx(quote(_text(value, "an nginx config"), safe=_URL_SAFE))


def haproxy(value: object) -> Filtered:
    """One HAProxy word: bare when possible, else single-quoted (no expansion inside).

    HAProxy single quotes take everything literally but cannot hold a quote; a value with
    a single quote is double-quoted with ``\\``, ``"`` and ``$`` escaped (no env expansion).
    """
    text = _text(value, "an HAProxy config")
    if _BARE.fullmatch(text):
        return Filtered(text)
    if "'" not in text:
        return Filtered("'" + text + "'")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return Filtered('"' + escaped + '"')


def code(value: object) -> Filtered:
    """A double-quoted string literal Python, JavaScript, Go and YAML all read back as is."""
    return Filtered(json.dumps(_text(value, "a source file"), ensure_ascii=True))


def yaml(value: object) -> Filtered:
    """A YAML double-quoted scalar (JSON string syntax is a subset of it)."""
    return code(value)


def curl(value: object) -> Filtered:
    """A curl config (``-K``) double-quoted string: ``\\`` and ``"`` escaped."""
    text = _text(value, "a curl config")
    return Filtered('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')


def sh(value: object) -> Filtered:
    """One shell word (single-quoted when it needs quoting)."""
    return Filtered(shlex.quote(_text(value, "a shell script")))


def env(value: object) -> Filtered:
    """A value in an env file that a shell sources: bare when possible, else shell-quoted.

    docker ``--env-file`` keeps quotes literally; a value that needs them is rare (paths
    with spaces) and a sourced file must never run it.
    """
    text = _text(value, "an env file")
    return Filtered(text if _BARE.fullmatch(text) else shlex.quote(text))


def jvm(value: object) -> Filtered:
    """A Java system property value inside ``JAVA_TOOL_OPTIONS`` (split on whitespace).

    It sits in a double-quoted shell string, so it must hold no quote, ``$``, backquote,
    backslash or space: only the bare alphabet is accepted.
    """
    text = _text(value, "JAVA_TOOL_OPTIONS")
    if not _BARE.fullmatch(text):
        raise _refuse(text, "a Java option (JAVA_TOOL_OPTIONS)", "[A-Za-z0-9_./@+:-]")
    return Filtered(text)


def comment(value: object) -> Filtered:
    """Text inside a one-line comment (``#`` or ``//``): nothing that ends the line."""
    return Filtered(_text(value, "a comment"))


def b64(value: object) -> Filtered:
    """Base64 data (the Kubernetes Secret's fields)."""
    text = str(value)
    if not _B64.fullmatch(text):
        raise ConfigRenderError("internal: base64 data expected in the Kubernetes Secret")
    return Filtered(text)


def finalize(value: object) -> object:
    """Jinja ``finalize``: only filtered text (or a plain int) may reach a rendered file."""
    if isinstance(value, Filtered) or (type(value) is int):
        return value
    raise ConfigRenderError(
        f"internal: a template placed a {type(value).__name__} without a syntax filter; "
        "every value needs one (req. 27)"
    )


FILTERS = {
    "b64": b64,
    "bare": bare,
    "code": code,
    "comment": comment,
    "curl": curl,
    "env": env,
    "haproxy": haproxy,
    "ident": ident,
    "jvm": jvm,
    "nginx": nginx,
    "nginx_url": nginx_url,
    "q": code,
    "sh": sh,
    "yaml": yaml,
}
"""Name in templates -> filter."""
