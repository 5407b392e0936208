"""Import a detect-secrets baseline (``.secrets.baseline``).

Top level ``results`` maps a file name to findings with ``type``, ``hashed_secret`` (SHA-1
hex of the secret), optional ``line_number`` and, after an audit, ``is_secret``. Findings
audited as ``is_secret: false`` are skipped. Keys get fingerprint ``sha1:<12 hex>``, so
they match other detect-secrets imports; scanners that see the value use SHA-256 instead,
so the same secret from gitleaks and detect-secrets stays two keys until triaged.
"""

from __future__ import annotations

import re

from workbench.errors import ImportReportError, Problem
from workbench.inventory.ids import slugify_id
from workbench.inventory.importers._common import (
    UNSAFE_PLACE,
    Hit,
    field,
    inventory_from_hits,
    kind_hint,
    parse_json_report,
    raise_problems,
    sanitize_place,
)
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import YMap, YSeq

__all__ = ["import_detect_secrets"]

_SHA1 = re.compile(r"[0-9a-f]{40}")


def import_detect_secrets(text: str, filename: str = "-") -> Inventory:
    """Keys (on the ``unassigned`` API) from a detect-secrets baseline."""
    tree = parse_json_report(
        text, filename, "a JSON object with 'results' (detect-secrets scan > .secrets.baseline)"
    )
    problems: list[Problem] = []
    if type(tree) is YMap:
        field(tree, "version", problems, filename, "the baseline", required=False)
        if problems:
            raise_problems(problems, filename)
    results = tree.get("results") if type(tree) is YMap else None
    if type(results) is not YMap:
        line, col = (tree.line, tree.col)
        raise ImportReportError(
            Problem(
                filename,
                line,
                col,
                "a detect-secrets baseline has a "
                "'results' object (detect-secrets scan > .secrets.baseline)" + kind_hint(tree),
            )
        )
    hits: list[Hit] = []
    for name, findings in results.items():
        if type(findings) is not YSeq:
            problems.append(
                Problem(
                    filename,
                    findings.line,
                    findings.col,
                    "each results entry must be a list of findings",
                )
            )
            continue
        for n, item in enumerate(findings, 1):
            what = f"finding {n} of a results entry"
            if type(item) is not YMap:
                problems.append(Problem(filename, item.line, item.col, f"{what} is not an object"))
                continue
            before = len(problems)
            hashed = field(item, "hashed_secret", problems, filename, what)
            if hashed is None:
                continue
            if not _SHA1.fullmatch(hashed.value):
                problems.append(
                    Problem(
                        filename,
                        hashed.line,
                        hashed.col,
                        f"{what}: hashed_secret must be 40 hex digits (SHA-1)",
                    )
                )
                continue
            audited = field(
                item, "is_secret", problems, filename, what, required=False, kind="flag"
            )
            verified = field(
                item, "is_verified", problems, filename, what, required=False, kind="flag"
            )
            line = field(
                item, "line_number", problems, filename, what, required=False, kind="count"
            )
            kind = field(item, "type", problems, filename, what, required=False)
            if len(problems) > before:
                continue
            if audited is not None and audited.value == "false":
                continue
            place = sanitize_place(f"repo:{name}" + (f":{int(line.value)}" if line else ""))
            if place is None:
                problems.append(
                    Problem(
                        filename,
                        item.line,
                        item.col,
                        f"{what}: {UNSAFE_PLACE}",
                    )
                )
                continue
            tag = "detect-secrets:" + slugify_id(kind.value if kind else "", fallback="secret")
            hits.append(
                Hit(
                    "sha1:" + hashed.value[:12],
                    place,
                    tag,
                    Location(filename, item.line, item.col),
                    verified is not None and verified.value == "true",
                )
            )
    if problems:
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)
