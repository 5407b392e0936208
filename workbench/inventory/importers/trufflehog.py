"""Import trufflehog v3 JSON Lines (``trufflehog ... --json``): one object per line.

Used fields: ``DetectorName``, ``Verified``, ``SourceMetadata.Data.<Source>`` with
``file``, ``line`` and ``commit`` when present (``Git``, ``Filesystem``, ``Github``...),
and ``Raw`` (else ``RawV2``), hashed in memory and never kept; ``Redacted`` is never read.
Git sources give ``repo:FILE:LINE@COMMIT12``, others ``<source>:FILE:LINE``.
"""

from __future__ import annotations

from workbench.errors import ImportReportError, Problem
from workbench.inventory.ids import slugify_id
from workbench.inventory.importers._common import (
    Hit,
    field,
    inventory_from_hits,
    raise_problems,
    sanitize_place,
    short_commit,
)
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import (
    YMap,
    YSeq,
    json_escapes_for_yaml,
    max_bytes,
    parse_tree,
    too_large,
)
from workbench.secrets import fingerprint

__all__ = ["import_trufflehog"]


_NOT_JSONL = "not a JSON object; trufflehog --json writes one finding object per line"


def import_trufflehog(text: str, filename: str = "-") -> Inventory:
    """Keys (on the ``unassigned`` API) from trufflehog JSON Lines; ``ImportReportError``.

    An empty report is valid (trufflehog writes nothing when it finds nothing). Lines that
    are not JSON objects (a log line mixed in by ``2>&1``, a line cut short when the scan
    was killed) are one problem: the first such line, with a count of the others, so a
    pretty-printed or wrong-kind file gives one line, not one per line of the file.
    """
    if len(text) > max_bytes():
        raise ImportReportError(Problem(filename, 0, 0, too_large(max_bytes())))
    problems: list[Problem] = []
    hits: list[Hit] = []
    garbage: list[Problem] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        if raw.lstrip().startswith("{"):
            tree, errs = parse_tree(json_escapes_for_yaml(raw), filename)
        else:
            tree, errs = None, []
        if errs or type(tree) is not YMap:
            col = errs[0].col if errs else 1
            garbage.append(Problem(filename, lineno, col, _NOT_JSONL))
            continue
        hit = _hit(tree, lineno, filename, problems)
        if hit is not None:
            hits.append(hit)
    if len(garbage) > 1 and not hits and not problems:
        _refuse_one_document(text, filename)
    if garbage:
        first = garbage[0]
        if len(garbage) > 1:
            more = len(garbage) - 1
            first = Problem(
                filename, first.line, first.col, f"{_NOT_JSONL} ({more} more such lines)"
            )
        problems.append(first)
        problems.sort(key=lambda p: (p.line, p.col))
    if problems:
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)


def _refuse_one_document(text: str, filename: str) -> None:
    """A pretty-printed finding or a JSON array (``jq .`` output, a gitleaks report) is one
    problem that says so, not one per line."""
    tree, errs = parse_tree(json_escapes_for_yaml(text), filename)
    if not errs and type(tree) in (YMap, YSeq):
        raise ImportReportError(
            Problem(
                filename,
                tree.line,
                tree.col,
                "one JSON document, not JSON Lines; trufflehog --json writes one finding "
                "object per line (do not pretty-print it; for gitleaks use 'import gitleaks')",
            )
        )


def _hit(tree: YMap, lineno: int, filename: str, problems: list[Problem]) -> Hit | None:
    """The finding on line ``lineno`` (parsed alone, so its nodes say line 1)."""
    located: list[Problem] = []
    what = "finding"
    meta = tree.get("SourceMetadata")
    data = meta.get("Data") if type(meta) is YMap else None
    if type(data) is not YMap or len(data) != 1:
        located.append(
            Problem(filename, 1, tree.col, "SourceMetadata.Data must name exactly one source")
        )
    else:
        source, info = next(iter(data.items()))
        if type(info) is not YMap:
            msg = f"SourceMetadata.Data.{slugify_id(source)} must be an object"
            located.append(Problem(filename, 1, info.col, msg))
        else:
            file_ = field(info, "file", located, filename, what, required=False)
            line = field(info, "line", located, filename, what, required=False, kind="count")
            commit = field(info, "commit", located, filename, what, required=False)
    raw = field(tree, "Raw", located, filename, what, required=False)
    raw2 = field(tree, "RawV2", located, filename, what, required=False)
    detector = field(tree, "DetectorName", located, filename, what, required=False)
    verified = field(tree, "Verified", located, filename, what, required=False, kind="flag")
    # Nodes were parsed from the line alone: move their line 1 to the line in the file.
    problems.extend(Problem(p.file, lineno, p.col, p.message) for p in located)
    if located:
        return None
    kind = (
        "repo"
        if commit or source.lower() in ("git", "github", "gitlab")
        else slugify_id(source, fallback="source")
    )
    sha = short_commit(commit.value if commit else "")
    place = sanitize_place(
        f"{kind}:{file_.value if file_ else '?'}"
        + (f":{int(line.value)}" if line else "")
        + (f"@{sha}" if sha else "")
    )
    if place is None:
        problems.append(
            Problem(filename, lineno, tree.col, "file has unprintable or secret-looking text")
        )
        return None
    secret = (raw.value if raw else "") or (raw2.value if raw2 else "")
    fp = fingerprint(secret) if secret else None
    del secret
    name = detector.value if detector else "detector"
    return Hit(
        fp,
        place,
        "trufflehog:" + slugify_id(name, fallback="detector"),
        Location(filename, lineno, tree.col),
        verified is not None and verified.value == "true",
    )
