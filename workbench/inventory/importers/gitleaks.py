"""Import a gitleaks JSON report (``gitleaks detect -f json -r out.json``).

The report is one JSON array of findings. Used fields: ``RuleID``, ``File``,
``StartLine``, ``Commit`` (optional) and ``Secret`` (hashed in memory, never kept;
``Match`` and ``Line`` are never read). With ``--redact`` the secret reads ``REDACTED``;
such findings become ``located-...`` keys without a fingerprint. Each finding becomes a
``found_in`` entry ``repo:FILE:LINE`` (``@COMMIT12`` when a commit is given).
"""

from __future__ import annotations

from workbench.errors import ImportReportError, Problem
from workbench.inventory.ids import slugify_id
from workbench.inventory.importers._common import (
    Hit,
    field,
    inventory_from_hits,
    kind_hint,
    parse_json_report,
    raise_problems,
    sanitize_place,
    short_commit,
)
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import YMap, YSeq
from workbench.secrets import fingerprint

__all__ = ["import_gitleaks", "is_redacted"]


def is_redacted(secret: str) -> bool:
    """True for gitleaks' redacted forms (``REDACTED``, or a kept prefix ending ``...``)."""
    return not secret or "REDACTED" in secret or secret.endswith("...")


def import_gitleaks(text: str, filename: str = "-") -> Inventory:
    """Keys (on the ``unassigned`` API) from a gitleaks report; ``ImportReportError`` if bad."""
    shape = "a JSON array of findings (gitleaks detect -f json)"
    tree = parse_json_report(text, filename, shape)
    if type(tree) is not YSeq:
        raise ImportReportError(
            Problem(filename, tree.line, tree.col, f"a gitleaks report is {shape}{kind_hint(tree)}")
        )
    problems: list[Problem] = []
    hits: list[Hit] = []
    for n, item in enumerate(tree, 1):
        what = f"finding {n}"
        if type(item) is not YMap:
            problems.append(Problem(filename, item.line, item.col, f"{what} is not an object"))
            continue
        file_ = field(item, "File", problems, filename, what)
        line = field(item, "StartLine", problems, filename, what, kind="count")
        secret = field(item, "Secret", problems, filename, what)
        rule = field(item, "RuleID", problems, filename, what, required=False)
        commit = field(item, "Commit", problems, filename, what, required=False)
        if file_ is None or line is None or secret is None:
            continue
        sha = short_commit(commit.value if commit else "")
        place = sanitize_place(f"repo:{file_.value}:{int(line.value)}" + (f"@{sha}" if sha else ""))
        if place is None:
            problems.append(
                Problem(
                    filename,
                    file_.line,
                    file_.col,
                    f"{what}: File has unprintable or secret-looking text",
                )
            )
            continue
        fp = None if is_redacted(secret.value) else fingerprint(secret.value)
        tag = "gitleaks:" + slugify_id(rule.value if rule else "", fallback="rule")
        hits.append(Hit(fp, place, tag, Location(filename, item.line, item.col)))
    if problems:
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)
