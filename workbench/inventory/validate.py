"""Whole-inventory checks: ids, duplicates, references, data classes, pasted secrets.

``validate_inventory`` works on any ``Inventory`` (loaded, imported, merged or built in
code) and returns located problems (requirements 19-21, 23). The loader has already checked
each field where it was written, so it calls this with ``check_fields=False``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import fields
from urllib.parse import urlsplit

from workbench.errors import Problem
from workbench.inventory.ids import SAFE_ID_RULE, explain_unsafe_id, is_safe_id
from workbench.inventory.model import Inventory, Location
from workbench.secrets import MIN_SECRET_LEN, secret_kind, show_value

__all__ = ["DEFAULT_DATA_CLASSES", "check_text", "check_url", "validate_inventory"]

DEFAULT_DATA_CLASSES = frozenset(
    ("pci", "phi", "pii", "secret", "confidential", "internal", "public")
)
"""Used when no set is passed; the planning policy owns the real set."""

_UNSAFE_CHARS = frozenset(
    [chr(c) for c in range(0x20) if c not in (0x09, 0x0A)]
    + ["\x7f", "\u200e", "\u200f", "\u061c"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)


def check_text(value: str) -> str | None:
    """Why a text value is unacceptable (empty, control or bidi characters), or None."""
    if not value:
        return "is empty; remove the field or give a value"
    if value.isascii() and value.isprintable():
        return None
    bad = next((c for c in value if c in _UNSAFE_CHARS), None)
    if bad is not None:
        return f"contains control or bidi character U+{ord(bad):04X}; remove it"
    return None


def check_url(url: str) -> str | None:
    """Why an API base URL is unacceptable, or None (https, a host, no credentials)."""
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
    if parts.fragment:
        return "must not have a #fragment"
    return None


def _where(loc: Location | None, source: str | None) -> tuple[str, int, int]:
    if loc is None:
        return (source or "-", 0, 0)
    return (loc.file, loc.line, loc.col)


def validate_inventory(
    inv: Inventory,
    *,
    known_data_classes: Collection[str] | None = None,
    check_fields: bool = True,
) -> list[Problem]:
    """Every problem in ``inv``, in a stable order (by section, then declaration)."""
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
    keys = inv.keys_by_id
    for api in inv.apis:
        if api.provided_by is not None and api.provided_by not in services:
            add(
                api.location,
                f"api {show_value(api.id)} provided_by "
                f"{show_value(api.provided_by)} is not a declared service; add it or fix it",
            )
        for dc in api.data_classes:
            if dc not in known:
                add(
                    api.location,
                    f"api {show_value(api.id)} has unknown data class "
                    f"{show_value(dc)}; known: {', '.join(sorted(known))}",
                )
        if check_fields and check_url(api.url):
            add(api.location, f"api {show_value(api.id)} url {check_url(api.url)}")
    for key in inv.keys:
        if key.api not in apis:
            add(
                key.location,
                f"key {show_value(key.id)} uses api {show_value(key.api)} "
                "which is not declared; add it under apis or fix the name",
            )
    for i in inv.integrations:
        if i.consumer not in services:
            add(
                i.location,
                f"integration consumer {show_value(i.consumer)} is not a "
                "declared service; add it under services or fix the name",
            )
        if i.key not in keys:
            add(
                i.location,
                f"integration key {show_value(i.key)} is not a declared key; "
                "add it under keys or fix the name",
            )
    return out


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
