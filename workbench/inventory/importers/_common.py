"""Shared pieces of the scanner importers: reading reports, keys from hits, the placeholder.

Scanner findings carry no API or consumer, so imported keys point at a placeholder API
``unassigned`` (tagged ``needs-triage``; url ``https://unassigned.invalid/``, a reserved
name that never resolves). The result validates, the findings list flags every such key
with ``key-needs-triage``, and a person moves each key to its real API later.

A secret value is read only to hash it (``secretscan.fingerprint``: 12 hex of SHA-256, or
``sha1:`` + 12 hex for detect-secrets, which only has the SHA-1) and is dropped at once
(req. 11). The same fingerprint seen in several places is one key with several
``found_in`` entries. Key ids are ``leaked-<fingerprint>`` (stable across imports), or
``located-<hash of where>`` for redacted findings, whose value is unknown.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from workbench.errors import ImportReportError, Problem
from workbench.inventory.findings import UNASSIGNED_API_ID
from workbench.inventory.ids import slugify_id
from workbench.inventory.inputfile import read_input_text
from workbench.inventory.jsonstrict import comment_problem, strict_json_problem
from workbench.inventory.model import Api, Inventory, Key, Location
from workbench.inventory.validate import check_text
from workbench.inventory.yamlsafe import (
    Scalar,
    YMap,
    YSeq,
    json_escapes_for_yaml,
    line_col,
    parse_tree,
)
from workbench.secrets import secret_kind

__all__ = [
    "MAX_LINE",
    "NO_MAPPING",
    "PLACEHOLDER_API",
    "UNSAFE_PLACE",
    "Hit",
    "field",
    "inventory_from_hits",
    "kind_hint",
    "mapping_at",
    "parse_json_report",
    "raise_problems",
    "read_report",
    "sanitize_place",
]

PLACEHOLDER_API = Api(
    id=UNASSIGNED_API_ID,
    url="https://unassigned.invalid/",
    data_classes=(),
    owner="unassigned",
    environment="unknown",
    tags=("needs-triage",),
    notes="Placeholder for keys found by scanners; move each key to its real api.",
)


@dataclass(frozen=True)
class Hit:
    """One scanner finding, with the secret already reduced to a fingerprint."""

    fingerprint: str | None
    """``12hex`` (SHA-256) or ``sha1:12hex``; None when the report was redacted."""
    place: str
    """Where it was seen, e.g. ``repo:src/app.py:12@0a1b2c3d4e5f``."""
    tag: str
    """``<tool>:<rule>`` label."""
    location: Location
    """Where the finding is in the report."""
    verified: bool = False
    """The scanner confirmed the secret is live."""


def read_report(path: str | os.PathLike[str], *, limit: int | None = None) -> tuple[str, str]:
    """(text, name) of a report file; size bound (``yamlsafe.max_bytes``) and UTF-8."""
    return read_input_text(path, error=ImportReportError, limit=limit)


_JSON_START = re.compile(r"\s*[\[{]")


def parse_json_report(
    text: str, filename: str, expect: str, only: frozenset[str] | None = None
) -> YMap | YSeq:
    """The located tree of a one-document JSON report, or ``ImportReportError``.

    ``expect`` says what the tool writes (``"a JSON array of findings (gitleaks ...)"``);
    ``only``: the fields kept in the findings of a top-level list (``yamlsafe.parse_tree``).
    YAML is a superset of JSON, so a block-YAML file would parse; it is refused as one
    problem here, not as one wrong-type problem per field later.
    """
    if not text.strip():
        raise ImportReportError(Problem(filename, 0, 0, f"report is empty; expected {expect}"))
    bad = comment_problem(text, filename)
    if bad is None and not _JSON_START.match(text):
        # not JSON at all (block YAML, XML, text): said as such, not as a YAML syntax error
        line, col = line_col(text, len(text) - len(text.lstrip()))
        xml = "; this is XML (gitleaks -f junit?)" if text.lstrip().startswith("<") else ""
        bad = Problem(filename, line, col, f"not the expected report{xml}: expected {expect}")
    if bad is None:
        bad = strict_json_problem(text, filename)
    if bad is not None:
        raise ImportReportError(bad)
    tree, problems = parse_tree(json_escapes_for_yaml(text), filename, only=only)
    if problems or tree is None:
        raise_problems(problems, filename)
    return tree


def kind_hint(tree: YMap | YSeq) -> str:
    """``"; ..."`` naming the report this tree looks like (a wrong ``import KIND``), or ``""``."""
    if type(tree) is YSeq and any(type(f) is YMap and "RuleID" in f for f in tree[:3]):
        return "; this looks like a gitleaks report: use 'workbench import gitleaks'"
    if type(tree) is YMap and ("SourceMetadata" in tree or "stringsFound" in tree):
        return "; this looks like trufflehog: use 'workbench import trufflehog'"
    if type(tree) is YMap and "runs" in tree:
        return "; this is SARIF: use 'workbench import gitleaks' for gitleaks' SARIF"
    if type(tree) is YMap and type(tree.get("results")) is YMap:
        return "; this looks like a detect-secrets baseline: use 'workbench import detect-secrets'"
    return ""


def raise_problems(problems: list[Problem], filename: str) -> None:
    """Raise ``ImportReportError`` with at most ``MAX_PROBLEMS`` lines (a count after them)."""
    from workbench.inventory.loader import capped

    raise ImportReportError(capped(problems, filename))


def sanitize_place(place: str) -> str | None:
    """``place`` as it may be stored, or None when it has unprintable characters.

    A path part that looks like a secret (``babel-loader/3f2a...9c.json``, a file named
    after an AWS key id) is hidden as ``<hidden>`` (req. 23), and the finding and its key
    stay: a scanner report is not the user's to edit. When the parts pass one by one but
    the whole does not (the random-token rule also reads across ``/``), all of the place
    after its kind is hidden.
    """
    if check_text(place):
        return None
    if not secret_kind(place):
        return place
    parts = _PLACE_PARTS.split(place)
    safe = "".join(_HIDDEN if i % 2 == 0 and secret_kind(p) else p for i, p in enumerate(parts))
    return safe if not secret_kind(safe) else f"{parts[0]}:{_HIDDEN}"


UNSAFE_PLACE = "file name has a control or invisible character; rename the file and scan again"
"""What is said of a finding whose place ``sanitize_place`` refuses."""
_PLACE_PARTS = re.compile(r"([/\\:@])")
_HIDDEN = "<hidden>"


def short_commit(commit: object) -> str:
    """First 12 characters of a commit id (a full 40-hex id would look like a secret)."""
    text = str(commit or "")
    return text[:12] if text and all(c in "0123456789abcdefABCDEF" for c in text) else ""


def where_id(*parts: object) -> str:
    """A stable id for a finding whose secret is unknown (redacted report)."""
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()[:12]
    return f"located-{digest}"


def inventory_from_hits(hits: list[Hit], source: str) -> Inventory:
    """One key per fingerprint (found_in unioned), all on the placeholder API.

    Places and tags accumulate in dicts used as ordered sets: one secret seen in 100k files
    (or under 100k rules) stays linear, where re-building a tuple per hit was quadratic.
    """
    first: dict[str, Hit] = {}
    places: dict[str, dict[str, None]] = {}
    tags: dict[str, dict[str, None]] = {}
    for hit in hits:
        if hit.fingerprint:
            kid = "leaked-" + slugify_id(hit.fingerprint.replace(":", "-"))
        else:
            kid = where_id(hit.place, hit.tag)
        if kid not in first:
            first[kid] = hit
            places[kid] = {}
            tags[kid] = {"needs-triage": None}
        places[kid][hit.place] = None
        tags[kid][hit.tag] = None
        if hit.verified:
            tags[kid]["verified"] = None
    keys = tuple(
        Key(
            id=kid,
            api=UNASSIGNED_API_ID,
            fingerprint=hit.fingerprint,
            found_in=tuple(places[kid]),
            tags=tuple(tags[kid]),
            location=hit.location,
        )
        for kid, hit in first.items()
    )
    return Inventory(apis=(PLACEHOLDER_API,) if keys else (), keys=keys, source=source)


MAX_LINE = 2**31 - 1
"""Largest line number believed: a larger one is a damaged report, not a real file."""

_KINDS = {
    "text": "a JSON string",
    "count": f"a number (a whole number up to {MAX_LINE})",
    "flag": "true or false",
}


def field(
    m: YMap,
    name: str,
    problems: list[Problem],
    file: str,
    what: str,
    *,
    required: bool = True,
    kind: str = "text",
) -> Scalar | None:
    """A scalar field of a JSON object, of ``kind`` (text, count or flag), or None.

    A missing or ``null`` field is a problem when ``required``; a field of another type is
    always one (``"File": 5``, ``"StartLine": "12"``, ``"Verified": "yes"``): guessing what
    the tool meant would put a wrong place, or a wrong fingerprint, in the inventory.
    Problems name the field, never its value (it may be the secret).
    """
    node = m.get(name)
    if node is None or (type(node) is Scalar and node.plain and node.value == "null"):
        if required:
            problems.append(
                Problem(
                    file,
                    m.line,
                    m.col,
                    f"{what} has no {name}; is this report from the right tool?",
                )
            )
        return None
    if type(node) is not Scalar or not _is_kind(node, kind):
        got = ", not a list or object" if type(node) is not Scalar else ""
        msg = f"{what}: {name} must be {_KINDS[kind]}{got}"
        problems.append(Problem(file, node.line, node.col, msg))
        return None
    return node


def _is_kind(node: Scalar, kind: str) -> bool:
    if kind == "text":
        return not node.plain  # JSON strings are quoted; numbers, true, false are plain
    if kind == "count":
        v = node.value
        return node.plain and v.isascii() and v.isdigit() and len(v) <= 10 and int(v) <= MAX_LINE
    return node.plain and node.value in ("true", "false")


NO_MAPPING = YMap(0, 0)
"""An absent optional mapping (never written to): its fields read as not given."""


def mapping_at(node: object, steps: tuple[str | int, ...]) -> YMap | None:
    """The mapping at ``steps`` under ``node`` (keys and list indexes), or None."""
    for step in steps:
        if type(step) is int:
            node = node[step] if type(node) is YSeq and len(node) > step else None
        else:
            node = node.get(step) if type(node) is YMap else None
    return node if type(node) is YMap else None
