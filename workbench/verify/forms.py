"""The shapes an old static key can travel in (requirement 14).

A gateway that refuses the key in its declared header may still honour it elsewhere: as
``Authorization: Bearer <key>``, as the bare ``Authorization`` header, or as a query
parameter (Kong's and Google's ``api_key``/``key``, OAuth's ``access_token``). The verifier
probes every one of them; an inventory key may add its own with ``presented_as``:

- ``header:NAME``            -> ``NAME: <key>``
- ``query:NAME``             -> ``?NAME=<key>``
- ``authorization:SCHEME``   -> ``Authorization: SCHEME <key>`` (e.g. ``authorization:Token``)
- ``basic``                  -> ``Authorization: Basic base64(<key>:)`` (key as the user name)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "DEFAULT_QUERY_PARAMS",
    "KeyForm",
    "PRESENTED_AS_HELP",
    "bearer_form",
    "key_forms",
    "parse_presented_as",
]

DEFAULT_QUERY_PARAMS = ("api_key", "apikey", "key", "access_token")
PRESENTED_AS_HELP = "header:NAME, query:NAME, authorization:SCHEME or basic"
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_QUERY_NAME = re.compile(r"[A-Za-z0-9._~-]{1,64}")


@dataclass(frozen=True)
class KeyForm:
    """One way of presenting a secret in a request."""

    label: str
    """Human name, e.g. ``header X-API-Key`` or ``query api_key`` (never the value)."""
    where: str
    """``header`` or ``query``."""
    name: str
    """Header name or query parameter name."""
    scheme: str = ""
    """Authorization scheme put before the value (``Bearer``), ``basic``, or empty."""

    def header_value(self, value: str) -> str:
        """The header value carrying ``value``."""
        if self.scheme == "basic":
            return "Basic " + base64.b64encode(f"{value}:".encode()).decode("ascii")
        return f"{self.scheme} {value}" if self.scheme else value

    def query_item(self, value: str) -> str:
        """``name=value`` for a query string (value percent-encoded)."""
        return f"{self.name}={quote(value, safe='')}"

    def shown_path(self, path: str, mark: str) -> str:
        """The request target as evidence shows it: the value replaced by ``mark``."""
        if self.where != "query":
            return path
        return f"{path}{'&' if '?' in path else '?'}{self.name}={mark}"

    def wire_path(self, path: str, value: str) -> str:
        """The request target as sent."""
        if self.where != "query":
            return path
        return f"{path}{'&' if '?' in path else '?'}{self.query_item(value)}"


def bearer_form() -> KeyForm:
    return KeyForm("Authorization: Bearer", "header", "Authorization", "Bearer")


def parse_presented_as(text: str) -> KeyForm | str:
    """A :class:`KeyForm` for an inventory ``presented_as`` entry, or why it is not one."""
    kind, _, rest = text.partition(":")
    if kind == "basic" and not rest:
        return KeyForm("Authorization: Basic (key as user)", "header", "Authorization", "basic")
    if kind == "header" and _TOKEN.fullmatch(rest):
        return KeyForm(f"header {rest}", "header", rest)
    if kind == "query" and _QUERY_NAME.fullmatch(rest):
        return KeyForm(f"query {rest}", "query", rest)
    if kind == "authorization" and _TOKEN.fullmatch(rest):
        return KeyForm(f"Authorization: {rest}", "header", "Authorization", rest)
    return f"must be one of {PRESENTED_AS_HELP} (got {text[:40]!r})"


def key_forms(header: str, presented_as: Sequence[str] = ()) -> tuple[KeyForm, ...]:
    """Every form to probe the old key in: the declared header first, then the common
    alternates, then the inventory's own ``presented_as`` (duplicates dropped)."""
    forms = [
        KeyForm(f"header {header}", "header", header),
        bearer_form(),
        KeyForm("Authorization (bare)", "header", "Authorization"),
        *(KeyForm(f"query {q}", "query", q) for q in DEFAULT_QUERY_PARAMS),
    ]
    for text in presented_as:
        form = parse_presented_as(text)
        if isinstance(form, str):
            raise ValueError(f"presented_as {form}")
        forms.append(form)
    out: dict[tuple[str, str, str], KeyForm] = {}
    for f in forms:
        out.setdefault((f.where, f.name.lower() if f.where == "header" else f.name, f.scheme), f)
    return tuple(out.values())
