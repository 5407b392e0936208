"""The scoring policy: weights in data, not in code.

``load_policy(None)`` reads the shipped ``default.yaml``; ``load_policy(path)`` reads a
user's file. A malformed policy raises PolicyError listing every ``FILE:LINE:COL`` problem.
The YAML is composed into nodes (not constructed) so every value keeps its position;
anchors, aliases, tags and duplicate keys are refused.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from workbench.errors import PolicyError, Problem
from workbench.inventory.inputfile import read_input_text
from workbench.inventory.yamlsafe import MAX_DEPTH, line_col

__all__ = ["FACTORS", "Policy", "load_policy", "parse_policy"]

FACTORS = ("data", "exposure", "blast_radius", "age", "environment", "third_party")
"""Every factor a policy weighs, in the order reasons are listed."""

_MAX_BYTES = 256 * 1024
_MAX_COUNT = 10**9  # caps, day counts and key counts: larger is a typo
_TOP_KEYS = {
    "name", "version", "weights", "data_classes", "unclassified", "exposures", "environments",
    "other_environment", "blast_radius", "age", "pilot",
}  # fmt: skip
_REQUIRED = ("weights", "data_classes", "exposures")


@dataclass(frozen=True)
class Policy:
    """How keys are scored. Every weight is a maximum contribution to a key's score."""

    name: str
    """Shown in plans and reports."""
    weights: Mapping[str, float]
    """Factor name (see FACTORS) -> maximum contribution."""
    data_classes: Mapping[str, float]
    """Data class -> sensitivity 0..1."""
    exposures: Mapping[str, float]
    """Consumer exposure (internet, partner, internal) -> 0..1."""
    unclassified: float = 0.5
    """Sensitivity of an API that lists no data class."""
    environments: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """API environment -> 0..1."""
    other_environment: float = 0.5
    """Value for an environment not listed."""
    blast_cap: int = 25
    """Blast radius (services) at which that factor is full."""
    age_cap_days: int = 1095
    """Age in days at which that factor is full."""
    pilot_max_keys: int = 2
    """Most keys in a pilot wave."""
    pilot_exposures: tuple[str, ...] = ("internal",)
    """A pilot key's consumers must all have one of these exposures."""
    pilot_excluded_data_classes: tuple[str, ...] = ("pci", "phi")
    """A pilot key's API must carry none of these data classes."""
    source: str | None = None
    """File it was loaded from (None for the shipped default)."""

    @property
    def known_data_classes(self) -> frozenset[str]:
        """Data classes an inventory may use."""
        return frozenset(self.data_classes)

    @property
    def max_score(self) -> float:
        """The highest possible score."""
        return float(sum(self.weights.values()))

    def weight(self, factor: str) -> float:
        """Maximum contribution of ``factor`` (0 when the policy leaves it out)."""
        return float(self.weights.get(factor, 0.0))


class _Reader:
    """Walks composed YAML nodes, collecting located problems instead of stopping at one."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def bad(self, node: yaml.Node | None, message: str) -> None:
        line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (0, 0)
        self.problems.append(Problem(self.file, line, col, message))

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, f"{what} must be a mapping")
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.tag != "tag:yaml.org,2002:str":
                self.bad(k, f"{what}: keys must be plain strings")
                continue
            if k.value in out:
                self.bad(k, f"{what}: duplicate key {k.value!r}; keep one")
                continue
            out[k.value] = (k, v)
        return out

    def number(self, node: yaml.Node, what: str, *, upper: float | None = None) -> float | None:
        ok = isinstance(node, yaml.ScalarNode) and node.tag in (
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        )
        value = None
        if ok:
            try:
                value = float(yaml.safe_load(node.value))
            except (ValueError, TypeError, yaml.YAMLError):
                value = None
        if value is None or value != value or value < 0 or (upper is not None and value > upper):
            limit = f"between 0 and {upper:g}" if upper is not None else "a number >= 0"
            self.bad(node, f"{what} must be {limit}")
            return None
        return value

    def integer(self, node: yaml.Node, what: str) -> int | None:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int"):
            self.bad(node, f"{what} must be a whole number >= 1")
            return None
        try:
            value = int(yaml.safe_load(node.value))
        except ValueError:  # beyond Python's 4300-digit int limit
            value = 0
        if not 1 <= value <= _MAX_COUNT:
            upto = f" and <= {_MAX_COUNT:,}" if value > 1 else ""
            self.bad(node, f"{what} must be a whole number >= 1{upto}")
            return None
        return value

    def string(self, node: yaml.Node, what: str) -> str | None:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str"):
            self.bad(node, f"{what} must be a string")
            return None
        return str(node.value)

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.bad(node, f"{what} must be a list of strings")
            return None
        out = [self.string(n, f"{what} entries") for n in node.value]
        return None if None in out else tuple(s for s in out if s is not None)

    def table(self, node: yaml.Node, what: str, *, upper: float | None = 1.0) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, (_, v) in self.mapping(node, what).items():
            n = self.number(v, f"{what}.{name}", upper=upper)
            if n is not None:
                out[name] = n
        return out


def _compose(text: str, file: str) -> yaml.Node | None:
    """Compose YAML into nodes, refusing anchors, aliases and explicit tags."""
    problems = []
    depth = 0
    try:
        # The C parser: the pure-Python one takes minutes on a deep flow and composing it
        # then overflows the stack; depth is bounded before anything is composed.
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            mark = event.start_mark
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    msg = f"nested deeper than {MAX_DEPTH} levels; flatten the policy"
                    raise PolicyError(Problem(file, mark.line + 1, mark.column + 1, msg), file=file)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problems.append(
                    Problem(
                        file,
                        mark.line + 1,
                        mark.column + 1,
                        "anchors and aliases are not allowed in a policy; write values out",
                    )
                )
            elif getattr(event, "tag", None) and not getattr(event, "implicit", (True,))[0]:
                problems.append(
                    Problem(
                        file,
                        mark.line + 1,
                        mark.column + 1,
                        "explicit YAML tags are not allowed in a policy",
                    )
                )
        if problems:
            raise PolicyError(problems, file=file)
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        msg = f"YAML syntax error: {exc.problem or exc.context}; fix the policy file"
        raise PolicyError(Problem(file, line, col, msg), file=file) from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        line, col = line_col(text, getattr(exc, "position", 0) or 0)
        msg = "character not allowed in YAML; remove it"
        raise PolicyError(Problem(file, line, col, msg), file=file) from None


def parse_policy(text: str, file: str = "<policy>") -> Policy:
    """Parse policy text; raises PolicyError with located problems."""
    if len(text.encode("utf-8", "replace")) > _MAX_BYTES:
        raise PolicyError(Problem(file, 0, 0, "policy file is larger than 256 KiB"), file=file)
    root = _compose(text, file)
    r = _Reader(file)
    if root is None:
        raise PolicyError(Problem(file, 1, 1, "policy file is empty"), file=file)
    top = r.mapping(root, "policy")
    if not isinstance(root, yaml.MappingNode):
        raise PolicyError(r.problems, file=file)
    for name, (k, _) in top.items():
        if name not in _TOP_KEYS:
            r.bad(k, f"unknown policy key {name!r}; expected one of {', '.join(sorted(_TOP_KEYS))}")
    for name in _REQUIRED:
        if name not in top:
            r.bad(root, f"policy is missing {name!r}")
    kw: dict[str, object] = {}
    if "name" in top:
        kw["name"] = r.string(top["name"][1], "name")
    if "version" in top:
        v = top["version"][1]
        if not (isinstance(v, yaml.ScalarNode) and v.value == "1"):
            r.bad(v, "unsupported policy version; use version: 1")
    if "weights" in top:
        weights: dict[str, float] = {}
        for name, (k, v) in r.mapping(top["weights"][1], "weights").items():
            if name not in FACTORS:
                r.bad(k, f"unknown factor {name!r}; expected one of {', '.join(FACTORS)}")
                continue
            n = r.number(v, f"weights.{name}")
            if n is not None:
                weights[name] = n
        kw["weights"] = MappingProxyType(weights)
    if "data_classes" in top:
        kw["data_classes"] = MappingProxyType(r.table(top["data_classes"][1], "data_classes"))
    if "exposures" in top:
        exposures = r.table(top["exposures"][1], "exposures")
        for e in ("internet", "partner", "internal"):
            if isinstance(top["exposures"][1], yaml.MappingNode) and e not in exposures:
                r.bad(top["exposures"][1], f"exposures is missing {e!r}")
        kw["exposures"] = MappingProxyType(exposures)
    if "environments" in top:
        kw["environments"] = MappingProxyType(r.table(top["environments"][1], "environments"))
    for name in ("unclassified", "other_environment"):
        if name in top:
            kw[name] = r.number(top[name][1], name, upper=1.0)
    for section, entries in (
        ("blast_radius", {"cap": "blast_cap"}),
        ("age", {"cap_days": "age_cap_days"}),
        ("pilot", {"max_keys": "pilot_max_keys", "exposures": "pilot_exposures",
                   "excluded_data_classes": "pilot_excluded_data_classes"}),
    ):  # fmt: skip
        if section not in top:
            continue
        for name, (k, v) in r.mapping(top[section][1], section).items():
            attr = entries.get(name)
            if attr is None:
                r.bad(k, f"unknown key {section}.{name}; expected {', '.join(entries)}")
            elif attr in ("pilot_exposures", "pilot_excluded_data_classes"):
                kw[attr] = r.strings(v, f"{section}.{name}")
            else:
                kw[attr] = r.integer(v, f"{section}.{name}")
    if r.problems:
        raise PolicyError(r.problems, file=file)
    kw.setdefault("name", Path(file).stem)
    return Policy(source=None if file == "<default>" else file, **kw)  # type: ignore[arg-type]


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy in ``path``, or the shipped default when ``path`` is None."""
    if path is None:
        text = (
            importlib.resources.files("workbench.policy")
            .joinpath("default.yaml")
            .read_text(encoding="utf-8")
        )
        return parse_policy(text, "<default>")
    text, name = read_input_text(path, error=PolicyError, limit=_MAX_BYTES)
    return parse_policy(text, name)
