"""Validation helpers shared by the playbook value objects (refuse, never coerce secrets)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from workbench.errors import PlaybookError

_HEX = re.compile(r"[0-9a-f]+")
EXPECTATIONS = ("accepted", "refused")


def _refuse(cls: str, name: str, value: object, want: str) -> PlaybookError:
    # Never show the value: it may be the very secret this check exists for.
    kind = type(value).__name__
    hint = (
        " (old key values never go into a ticket; pass its fingerprint)" if "Secret" in kind else ""
    )
    return PlaybookError(f"{cls}.{name} must be {want}, got {kind}{hint}")


def _check(
    obj: Any,
    *,
    text: tuple[str, ...] = (),
    opt_text: tuple[str, ...] = (),
    tuples: tuple[str, ...] = (),
    times: tuple[str, ...] = (),
) -> None:
    cls = type(obj).__name__
    for name in text + opt_text:
        v = getattr(obj, name)
        if v is None and name in opt_text:
            continue
        if type(v) is not str:
            raise _refuse(cls, name, v, "text")
    for name in tuples:
        v = getattr(obj, name)
        if isinstance(v, str | bytes) or not isinstance(v, list | tuple):
            raise _refuse(cls, name, v, "a list")
        object.__setattr__(obj, name, tuple(v))
    for name in times:
        v = getattr(obj, name)
        if v is None:
            continue
        if not isinstance(v, datetime) or v.tzinfo is None:
            raise PlaybookError(f"{cls}.{name} must be a timezone-aware datetime")


def _hex(cls: str, name: str, value: object, lengths: tuple[int, int]) -> None:
    lo, hi = lengths
    if type(value) is not str or not _HEX.fullmatch(value) or not lo <= len(value) <= hi:
        raise PlaybookError(f"{cls}.{name} must be {lo}-{hi} lowercase hex digits")


def _items(cls: str, name: str, values: tuple[Any, ...], kind: type) -> None:
    for v in values:
        if not isinstance(v, kind):
            raise _refuse(cls, name + "[]", v, kind.__name__)
