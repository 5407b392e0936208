"""Reading one field of an inventory entity: the scalar rules every entity shares.

A text field takes the scalar as written; a plain scalar that YAML 1.1 tools would read as
something else is a located error (quote it); every string is checked for a pasted secret
(req. 23) and unsafe characters; counts, booleans and dates have one spelling each. Split
out of ``loader`` (which reads the entities and their cross-field rules) to keep each short.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

from workbench.errors import Problem
from workbench.inventory.ids import SAFE_ID_RULE, explain_unsafe_id, is_safe_id
from workbench.inventory.validate import check_text
from workbench.inventory.yamlsafe import Scalar, YMap, YSeq
from workbench.secrets import MIN_SECRET_LEN, secret_kind, show_value

__all__ = ["NULLS", "FieldReader"]

NULLS = frozenset(("", "~", "null", "Null", "NULL"))
# What YAML 1.1 (PyYAML's resolver) reads as bool, int, float, null or timestamp.
_YAML11_NONSTR = re.compile(
    r"""(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N
    |[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    |[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?|~|null|Null|NULL)""",
    re.X,
)
_NONSTR_FIRST = frozenset("0123456789+-.~yYnNtTfFoO")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT = re.compile(r"[0-9]{1,15}")


class FieldReader:
    """The field readers of the inventory's ``_Reader``: each returns the value or None and
    records a located problem through ``err``."""

    file: str
    problems: list[Problem]
    refused_ids: set[str]
    """Sections (api, service, key) with an id refused here: references to them are not
    checked, since "'payments-api' is not declared" would only repeat that refusal."""

    def err(self, node: Any, message: str) -> None:  # pragma: no cover - the loader's
        raise NotImplementedError

    def fields(self, m: YMap, allowed: tuple[str, ...], what: str) -> None:
        """A problem per field of ``m`` not in ``allowed``, with the nearest allowed name."""
        unknown = m.keys() - allowed
        for name in sorted(unknown, key=lambda k: m.keypos[k]):
            line, col = m.keypos[name]
            lower = name.lower()
            if lower in allowed and lower not in m:
                # ``Version:``, ``APIs:``: one problem, and read under the right name so
                # its content is checked and nothing else is reported missing or undeclared
                msg = f"field {show_value(name)} must be written {lower!r} (lower case)"
                self.problems.append(Problem(self.file, line, col, msg))
                m[lower] = m.pop(name)
                m.keypos[lower] = m.keypos.pop(name)
                continue
            hint = difflib.get_close_matches(name, allowed, n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(allowed)}"
            self.problems.append(
                Problem(self.file, line, col, f"unknown field {show_value(name)} in {what}{tip}")
            )

    def scalar(self, m: YMap, name: str, required: bool) -> Scalar | None:
        node = m.get(name)
        if node is None or (type(node) is Scalar and node.plain and node.value in NULLS):
            if required:
                where = node if node is not None else m
                self.err(where, f"missing {name}; add '{name}: ...'")
            return None
        if type(node) is not Scalar:
            self.err(node, f"{name} must be a single value, not a list or mapping")
            return None
        return node

    def text(self, m: YMap, name: str, *, required: bool = False, scan: bool = True):
        node = self.scalar(m, name, required)
        if node is None:
            return None
        return self.check_str(node, name, scan)

    def check_str(self, node: Scalar, name: str, scan: bool = True) -> str | None:
        value = node.value
        if node.plain and value and value[0] in _NONSTR_FIRST and _YAML11_NONSTR.fullmatch(value):
            self.err(
                node,
                f"{name}: {show_value(value)} is read as a number, boolean, date or "
                f'null by YAML 1.1 tools; quote it ("{value}") if it is text',
            )
            return value
        if scan and len(value) >= MIN_SECRET_LEN:
            kind = secret_kind(value)
            if kind:
                self.err(
                    node,
                    f"{name} looks like a pasted secret ({kind}); remove it and put "
                    "a reference in secret_ref (env:NAME or file:PATH); value not shown",
                )
                return None
        why = check_text(value)
        if why:
            self.err(node, f"{name} {why}")
        return value

    def texts(self, m: YMap, name: str, *, required: bool = False) -> tuple[str, ...]:
        node = m.get(name)
        if node is None or (type(node) is Scalar and node.plain and node.value in NULLS):
            if required:
                self.err(node if node is not None else m, f"missing {name}; add '{name}: [...]'")
            return ()
        if type(node) is not YSeq:
            self.err(node, f"{name} must be a list like [a, b]")
            return ()
        out: dict[str, None] = {}  # an ordered set: 100k found_in entries stay linear
        for item in node:
            if type(item) is not Scalar:
                self.err(item, f"{name} entries must be single values")
                continue
            value = self.check_str(item, name)
            if value is not None:
                out[value] = None
        return tuple(out)

    def ident(self, m: YMap, name: str, what: str) -> str | None:
        before = len(self.problems)
        value = self.text(m, name, required=True)
        if value is not None and len(self.problems) == before and not is_safe_id(value):
            self.err(m[name], f"{what} {name} {explain_unsafe_id(value)}; {SAFE_ID_RULE}")
        if name == "id" and len(self.problems) > before:
            self.refused_ids.add(what)
        return value

    def integer(self, m: YMap, name: str, *, required: bool = False) -> int | None:
        node = self.scalar(m, name, required)
        if node is None:
            return None
        if not (node.plain and _INT.fullmatch(node.value)):
            self.err(node, f"{name} must be a whole number like 100")
            return None
        return int(node.value)

    def boolean(self, m: YMap, name: str) -> bool:
        node = self.scalar(m, name, False)
        if node is None:
            return False
        if node.plain and node.value in ("true", "false"):
            return node.value == "true"
        self.err(node, f"{name} must be true or false")
        return False

    def day(self, m: YMap, name: str) -> date | None:
        node = self.scalar(m, name, False)
        if node is None:
            return None
        if _DATE.fullmatch(node.value):
            try:
                return date.fromisoformat(node.value)
            except ValueError:
                pass
        self.err(node, f"{name} must be a date like 2024-01-31")
        return None
