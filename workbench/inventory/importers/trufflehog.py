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
    inventory_from_hits,
    sanitize_place,
    short_commit,
)
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import Scalar, YMap, max_bytes, parse_tree, too_large
from workbench.secrets import fingerprint

__all__ = ["import_trufflehog"]


def _text(m: YMap, name: str) -> str:
    node = m.get(name)
    if type(node) is Scalar and not (node.plain and node.value == "null"):
        return node.value
    return ""


def import_trufflehog(text: str, filename: str = "-") -> Inventory:
    """Keys (on the ``unassigned`` API) from trufflehog JSON Lines; ``ImportReportError``."""
    if len(text) > max_bytes():
        raise ImportReportError(Problem(filename, 0, 0, too_large(max_bytes())))
    problems: list[Problem] = []
    hits: list[Hit] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        tree, errs = parse_tree(raw, filename)
        if errs or type(tree) is not YMap:
            col = errs[0].col if errs else 1
            problems.append(
                Problem(
                    filename,
                    lineno,
                    col,
                    "not a JSON object; trufflehog --json writes one finding object per line",
                )
            )
            continue
        where = Location(filename, lineno, tree.col)
        meta = tree.get("SourceMetadata")
        data = meta.get("Data") if type(meta) is YMap else None
        if type(data) is not YMap or len(data) != 1:
            problems.append(
                Problem(
                    filename, lineno, tree.col, "SourceMetadata.Data must name exactly one source"
                )
            )
            continue
        source, info = next(iter(data.items()))
        if type(info) is not YMap:
            problems.append(
                Problem(
                    filename,
                    lineno,
                    tree.col,
                    f"SourceMetadata.Data.{slugify_id(source)} must be an object",
                )
            )
            continue
        file_, line, commit = _text(info, "file"), _text(info, "line"), _text(info, "commit")
        if line and not line.isdigit():
            problems.append(Problem(filename, lineno, tree.col, "line must be a number"))
            continue
        kind = (
            "repo"
            if commit or source.lower() in ("git", "github", "gitlab")
            else slugify_id(source, fallback="source")
        )
        sha = short_commit(commit)
        place = sanitize_place(
            f"{kind}:{file_ or '?'}"
            + (f":{int(line)}" if line else "")
            + (f"@{sha}" if sha else "")
        )
        if place is None:
            problems.append(
                Problem(filename, lineno, tree.col, "file has unprintable or secret-looking text")
            )
            continue
        secret = _text(tree, "Raw") or _text(tree, "RawV2")
        fp = fingerprint(secret) if secret else None
        del secret
        detector = _text(tree, "DetectorName") or "detector"
        verified = type(v := tree.get("Verified")) is Scalar and v.value == "true"
        hits.append(
            Hit(
                fp,
                place,
                "trufflehog:" + slugify_id(detector, fallback="detector"),
                where,
                verified,
            )
        )
    if problems:
        raise ImportReportError(problems)
    return inventory_from_hits(hits, filename)
