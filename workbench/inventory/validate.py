"""Whole-inventory checks: ids, duplicates, references, data classes, pasted secrets.

``validate_inventory`` works on any ``Inventory`` (loaded, imported, merged or built in
code) and returns located problems (requirements 19-21, 23). The loader has already checked
each field where it was written, so it calls this with ``check_fields=False``.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import fields
from urllib.parse import urlsplit

from workbench.errors import Problem
from workbench.inventory.ids import SAFE_ID_RULE, explain_unsafe_id, is_safe_id
from workbench.inventory.model import Inventory, Location
from workbench.secrets import MIN_SECRET_LEN, is_workbench_env, secret_kind, show_value

__all__ = [
    "DEFAULT_DATA_CLASSES",
    "check_path",
    "check_text",
    "check_url",
    "unsafe_char",
    "validate_inventory",
]

DEFAULT_DATA_CLASSES = frozenset(
    ("pci", "phi", "pii", "secret", "confidential", "internal", "public")
)
"""Used when no set is passed; the planning policy owns the real set."""

# Control characters, including TAB, LF and CR (YAML block scalars carry them), and the
# invisible format/line-separator characters: a value holding one can end a config line,
# a shell comment or a header early (req. 27), or read differently from how it looks.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
# What RFC 3986 allows in a URI; anything else (space, quotes, <>, braces, backslash, ^, `)
# is refused rather than escaped, so no config syntax ever has to carry it.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_CHARS = re.compile(r"/[A-Za-z0-9\-._~:/?@!$&'()*+,;=%]*")
_DNS_HOST = re.compile(
    r"(?=.{1,253}\.?$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?"
)


def unsafe_char(value: str) -> str | None:
    """The first control, format or line-separator character in ``value``, or None."""
    if value.isascii() and value.isprintable():
        return None  # the common case, one C-level scan
    return next((c for c in value if unicodedata.category(c) in _UNSAFE_CATEGORIES), None)


def check_text(value: str) -> str | None:
    """Why a text value is unacceptable (empty, control or bidi characters), or None.

    Checked on the raw value, before any parsing (req. 27): ``urlsplit`` silently drops
    TAB, CR and LF, so a URL must be refused here, not after parsing.
    """
    if not value:
        return "is empty; remove the field or give a value"
    bad = unsafe_char(value)
    if bad in ("\n", "\r"):  # a YAML block (|), a spreadsheet cell with Alt+Enter
        return (
            f"contains control or invisible character U+{ord(bad):04X} (a line break); keep "
            "it on one line (in YAML a folded block, >-, joins the lines)"
        )
    if bad is not None:
        return f"contains control or invisible character U+{ord(bad):04X}; remove it"
    return None


def check_url(url: str) -> str | None:
    """Why an API base URL is unacceptable, or None (https, a host, no credentials)."""
    why = check_text(url)
    if why:
        return why
    if not _URL_CHARS.fullmatch(url) or _PCT.search(url):
        return (
            "has characters a URL cannot hold (spaces, quotes, <>, {}, \\, ^, ` or a stray "
            "%); percent-encode them"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "is not a valid URL; write it like https://host:8443/path"
    if parts.scheme != "https":
        return "must start with https:// (the verifier probes over TLS)"
    if not host:
        return "has no host; write it like https://host:8443/path"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials (user:password@); remove them"
    if parts.fragment or "#" in url:
        return "must not have a #fragment"
    if not (_is_ip(host) or _DNS_HOST.fullmatch(host)):
        return "has a host that is neither a DNS name nor an IP address"
    return None


def check_path(path: str) -> str | None:
    """Why a URL path (``health_path``) is unacceptable, or None."""
    why = check_text(path)
    if why:
        return why
    if not path.startswith("/"):
        return "must start with '/' (e.g. /health)"
    if not _PATH_CHARS.fullmatch(path) or _PCT.search(path):
        return (
            "has characters a URL path cannot hold (spaces, quotes, <>, {}, \\, ^, `, # or "
            "a stray %); percent-encode them"
        )
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _where(loc: Location | None, source: str | None) -> tuple[str, int, int]:
    if loc is None:
        return (source or "-", 0, 0)
    return (loc.file, loc.line, loc.col)


def validate_inventory(
    inv: Inventory,
    *,
    known_data_classes: Collection[str] | None = None,
    check_fields: bool = True,
    unchecked_refs: Collection[str] = (),
) -> list[Problem]:
    """Every problem in ``inv``, in a stable order (by section, then declaration).

    ``unchecked_refs`` names sections (api, service, key) whose references are not checked:
    the loader refused one of their ids, and a dangling reference would repeat that.
    """
    known = frozenset(DEFAULT_DATA_CLASSES if known_data_classes is None else known_data_classes)
    out: list[Problem] = []

    def add(loc: Location | None, message: str) -> None:
        out.append(Problem(*_where(loc, inv.source), message))

    for section, items in (("api", inv.apis), ("service", inv.services), ("key", inv.keys)):
        seen: dict[str, Location | None] = {}
        for item in items:
            if check_fields:
                if not is_safe_id(item.id):
                    add(item.location, f"{section} id {explain_unsafe_id(item.id)}; {SAFE_ID_RULE}")
                _scan_fields(item, section, add)
            if item.id in seen:
                first = seen[item.id]
                at = f" (first at {first})" if first else ""
                add(
                    item.location,
                    f"duplicate {section} id {show_value(item.id)}{at}; ids must be unique",
                )
            else:
                seen[item.id] = item.location

    services = inv.services_by_id
    apis = inv.apis_by_id
    hints = [20]  # dangling references that get a "nearest" hint
    keys = inv.keys_by_id
    for api in inv.apis:
        if api.provided_by and "service" not in unchecked_refs and api.provided_by not in services:
            add(
                api.location,
                f"api {show_value(api.id)} provided_by "
                f"{show_value(api.provided_by)} is not a declared service; add it or fix it"
                + _nearest(api.provided_by, services, hints),
            )
        for dc in api.data_classes:
            if dc not in known:
                add(
                    api.location,
                    f"api {show_value(api.id)} has unknown data class "
                    f"{show_value(dc)}; known: {', '.join(sorted(known))}",
                )
        if check_fields and (why := check_url(api.url)):
            add(api.location, f"api {show_value(api.id)} url {why}")
        if check_fields and api.health_path is not None and (why := check_path(api.health_path)):
            add(api.location, f"api {show_value(api.id)} health_path {why}")
    for key in inv.keys:
        ref = key.secret_ref or ""
        if check_fields and ref.startswith("env:") and is_workbench_env(ref[4:]):
            add(
                key.location,
                f"key {show_value(key.id)} secret_ref names one of the workbench's own "
                "variables (WORKBENCH_*, Vault tokens), not an old key",
            )
        # An empty reference was already reported where it was read (missing, wrong type).
        if key.api and "api" not in unchecked_refs and key.api not in apis:
            add(
                key.location,
                f"key {show_value(key.id)} uses api {show_value(key.api)} "
                "which is not declared; add it under apis or fix the name"
                + _nearest(key.api, apis, hints),
            )
    for i in inv.integrations:
        if i.consumer and "service" not in unchecked_refs and i.consumer not in services:
            add(
                i.location,
                f"integration consumer {show_value(i.consumer)} is not a "
                "declared service; add it under services or fix the name"
                + _nearest(i.consumer, services, hints),
            )
        if i.key and "key" not in unchecked_refs and i.key not in keys:
            add(
                i.location,
                f"integration key {show_value(i.key)} is not a declared key; "
                "add it under keys or fix the name" + _nearest(i.key, keys, hints),
            )
    return out


def _nearest(name: str, known: Collection[str], budget: list[int]) -> str:
    """`` (nearest: 'a', 'b')``: the known ids most like ``name``, or nothing.

    Each lookup compares against every id (~1 ms per 1,000): only the first
    ``budget[0]`` dangling references get a hint, so a broken 100k-row import stays linear.
    """
    if budget[0] <= 0:
        return ""
    budget[0] -= 1
    near = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (nearest: {', '.join(show_value(n) for n in near)})" if near else ""


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for v in value:
            if isinstance(v, str):
                yield v


def _scan_fields(item: object, section: str, add) -> None:
    for f in fields(item):  # type: ignore[arg-type]
        if f.name in ("location", "fingerprint"):
            continue
        for text in _strings(getattr(item, f.name)):
            if len(text) >= MIN_SECRET_LEN and (kind := secret_kind(text)):
                add(
                    item.location,
                    f"{section} field {f.name} looks like a pasted secret "  # type: ignore[attr-defined]
                    f"({kind}); remove it and use secret_ref (env:NAME or file:PATH); "
                    "value not shown",
                )
            elif why := check_text(text):
                add(item.location, f"{section} field {f.name} {why}")  # type: ignore[attr-defined]
