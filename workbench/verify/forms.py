"""The shapes an old static key can travel in (requirement 14).

A gateway that refuses the key in its declared header may still honour it elsewhere: as
``Authorization: Bearer <key>``, as the bare ``Authorization`` header, or as a query
parameter (Kong's and Google's ``api_key``/``key``, OAuth's ``access_token``). The verifier
probes every one of them; an inventory key may add its own with ``presented_as``:

- ``header:NAME``            -> ``NAME: <key>``
- ``query:NAME``             -> ``?NAME=<key>``
- ``authorization:SCHEME``   -> ``Authorization: SCHEME <key>`` (e.g. ``authorization:Token``)
- ``basic``                  -> ``Authorization: Basic base64(<key>:)`` (key as the user name)

Beyond those, :func:`corner_forms` lists shapes a gateway and the service behind it may read
differently (the declared header with its name in another case or sent twice, a cookie,
Basic with the key as user or password, Kong's default ``apikey`` header): the verifier
tries each once per path and method (see :mod:`workbench.verify.corners`).
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
    "corner_forms",
    "key_forms",
    "parse_presented_as",
]

DEFAULT_QUERY_PARAMS = ("api_key", "apikey", "key", "access_token")
DECOY_VALUE = "workbench-decoy-not-a-key"
"""The wrong value sent beside the key when the declared header is sent twice."""
_VALUE_AS_IS = frozenset({"", "case", "decoy-first", "decoy-last"})
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
    """Authorization scheme put before the value (``Bearer``), ``basic``, or empty; for the
    corner forms also ``basic-password``, ``cookie`` (``name`` is the cookie's), ``case`` (the
    name as written, in another case), ``decoy-first`` and ``decoy-last`` (the header sent
    twice, once with a wrong value)."""

    def header_value(self, value: str) -> str:
        """The header value carrying ``value``."""
        if self.scheme == "basic":
            return "Basic " + base64.b64encode(f"{value}:".encode()).decode("ascii")
        if self.scheme == "basic-password":
            return "Basic " + base64.b64encode(f"workbench:{value}".encode()).decode("ascii")
        if self.scheme in _VALUE_AS_IS:
            return value
        return f"{self.scheme} {value}"

    def header_items(self, value: str) -> list[tuple[str, str]]:
        """The header lines carrying ``value`` (one, or two for the decoy forms)."""
        if self.scheme == "cookie":
            return [("Cookie", f"{self.name}={quote(value, safe='')}")]
        carried = (self.name, self.header_value(value))
        if self.scheme == "decoy-first":
            return [(self.name, DECOY_VALUE), carried]
        if self.scheme == "decoy-last":
            return [carried, (self.name, DECOY_VALUE)]
        return [carried]

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


def corner_forms(header: str, forms: Sequence[KeyForm]) -> tuple[KeyForm, ...]:
    """Shapes of the key a gateway may read differently from the service behind it, beyond
    ``forms`` (those already probed): the declared header with its name in another case,
    sent twice beside a wrong value (either order), as a cookie named like the header or
    ``api_key``, as Basic credentials (key as user, key as password) and Kong's ``apikey``
    header. HTTP says header names are case-insensitive; a check that is not, is a bypass."""
    other_case = header.lower() if header.lower() != header else header.upper()
    extra = [
        KeyForm(f"header {other_case} (name in another case)", "header", other_case, "case"),
        KeyForm(f"header {header} twice, wrong value first", "header", header, "decoy-first"),
        KeyForm(f"header {header} twice, wrong value last", "header", header, "decoy-last"),
        KeyForm(f"Cookie {header}", "header", header, "cookie"),
        KeyForm("Cookie api_key", "header", "api_key", "cookie"),
        KeyForm("Authorization: Basic (key as user)", "header", "Authorization", "basic"),
        KeyForm(
            "Authorization: Basic (key as password)", "header", "Authorization", "basic-password"
        ),  # fmt: skip
        KeyForm("header apikey", "header", "apikey"),
    ]
    seen = {(f.where, f.name.lower(), f.scheme) for f in forms}
    out = []
    for f in extra:
        key = (f.where, f.name.lower(), "" if f.scheme == "case" else f.scheme)
        if key not in seen or f.scheme == "case":
            seen.add(key)
            out.append(f)
    return tuple(out)
