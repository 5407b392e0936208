"""Import trufflehog v3 JSON Lines (``trufflehog ... --json``): one object per line.

Used fields: ``DetectorName``, ``Verified``, ``SourceMetadata.Data.<Source>`` with
``file``, ``line`` and ``commit`` when present (``Git``, ``Filesystem``, ``Github``...),
and ``Raw`` (else ``RawV2``), hashed in memory and never kept; ``Redacted`` is never read.
Git sources give ``repo:FILE:LINE@COMMIT12``, others ``<source>:FILE:LINE``.
"""

from __future__ import annotations

import base64

from workbench.errors import ImportReportError, Problem
from workbench.inventory.ids import slugify_id
from workbench.inventory.importers._common import (
    UNSAFE_PLACE,
    Hit,
    field,
    inventory_from_hits,
    raise_problems,
    sanitize_place,
    short_commit,
)
from workbench.inventory.importers.trufflehog_sarif import is_sarif, trufflehog_sarif_hits
from workbench.inventory.jsonstrict import strict_json_problem
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import (
    Scalar,
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
    objects: list[tuple[int, str]] = []
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
        objects.append((lineno, raw))
        if "SourceMetadata" in tree or not _other_line(tree, lineno, filename, problems, hits):
            hit = _hit(tree, lineno, filename, problems)
            if hit is not None:
                hits.append(hit)
    problems.extend(_not_strict(objects, filename))
    if len(garbage) > 1 and not hits and not problems:
        sarif = _one_document(text, filename, problems)
        if sarif is not None:
            hits, garbage = sarif, []
    if garbage:
        first = garbage[0]
        if len(garbage) > 1:
            more = len(garbage) - 1
            first = Problem(
                filename, first.line, first.col, f"{_NOT_JSONL} ({more} more such lines)"
            )
        problems.append(first)
    if problems:
        problems.sort(key=lambda p: (p.line, p.col))
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)


def _not_strict(objects: list[tuple[int, str]], filename: str) -> list[Problem]:
    """A problem per line that YAML read but JSON does not (a trailing comma, a comment).

    The lines are checked as one JSON array first (one call: per line it cost +18% of a
    50k-line import); only when that fails is each line looked at, to name it.
    """
    if not objects or strict_json_problem(f"[{','.join(r for _, r in objects)}]", "") is None:
        return []
    found = []
    for lineno, raw in objects:
        lax = strict_json_problem(raw, filename)
        if lax is not None:
            found.append(Problem(filename, lineno, lax.col, lax.message))
    return found


def _one_document(text: str, filename: str, problems: list[Problem]) -> list[Hit] | None:
    """The hits of trufflehog's SARIF; any other single JSON document (``jq .`` output, a
    gitleaks report) is one problem that says so, not one per line; None if neither."""
    tree, errs = parse_tree(json_escapes_for_yaml(text), filename)
    if not errs and is_sarif(tree):
        return trufflehog_sarif_hits(tree, filename, problems)
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
    return None


def _other_line(
    tree: YMap, lineno: int, filename: str, problems: list[Problem], hits: list[Hit]
) -> bool:
    """True when the line is not a v3 finding but something trufflehog writes: its own log
    record (``--json`` logs JSON to stderr, and ``2>&1`` mixes them in: skipped), or a
    finding of trufflehog 2 (``--json``) or 3's ``--json-legacy``, whose hits are added."""
    if "level" in tree and "msg" in tree:
        return True
    if is_sarif(tree):  # SARIF written on one line
        hits.extend(trufflehog_sarif_hits(tree, filename, problems, line_of=lineno))
        return True
    if "stringsFound" not in tree:
        return False
    located: list[Problem] = []
    what = "finding (trufflehog 2)"
    path = field(tree, "path", located, filename, what)
    commit = field(tree, "commitHash", located, filename, what, required=False)
    reason = field(tree, "reason", located, filename, what, required=False)
    found = tree["stringsFound"]
    if type(found) is not YSeq or any(type(s) is not Scalar or s.plain for s in found):
        located.append(
            Problem(filename, 1, found.col, f"{what}: stringsFound must be a list of strings")
        )
    problems.extend(Problem(p.file, lineno, p.col, p.message) for p in located)
    if located or path is None:
        return True
    sha = short_commit(commit.value if commit else "")
    place = sanitize_place(f"repo:{path.value}" + (f"@{sha}" if sha else ""))
    if place is None:
        problems.append(Problem(filename, lineno, path.col, UNSAFE_PLACE))
        return True
    tag = "trufflehog:" + slugify_id(reason.value if reason else "", fallback="detector")
    where = Location(filename, lineno, tree.col)
    hits.extend(Hit(fingerprint(s.value), place, tag, where) for s in found if s.value)
    return True


# Sources without a ``file``: the field that names where the secret was, by source.
_CONTAINERS = ("bucket", "container", "image", "project_name", "hostname")
_FILES = ("file", "filename")


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
            name = next((n for n in _FILES if n in info), "file")
            file_ = field(info, name, located, filename, what, required=False)
            line = field(info, "line", located, filename, what, required=False, kind="count")
            commit = field(info, "commit", located, filename, what, required=False)
            name = next((n for n in _CONTAINERS if n in info), "bucket")
            container = field(info, name, located, filename, what, required=False)
    raw = field(tree, "Raw", located, filename, what, required=False)
    raw2 = field(tree, "RawV2", located, filename, what, required=False)
    detector = field(tree, "DetectorName", located, filename, what, required=False)
    verified = field(tree, "Verified", located, filename, what, required=False, kind="flag")
    # Nodes were parsed from the line alone: move their line 1 to the line in the file.
    problems.extend(Problem(p.file, lineno, p.col, p.message) for p in located)
    if located:
        return None
    repo = commit or source.lower() in ("git", "github", "gitlab")
    kind = "repo" if repo else slugify_id(source, fallback="source")
    # a repository's place is its file, as gitleaks names it; elsewhere the bucket, image...
    parts = [p.value for p in (None if repo else container, file_) if p is not None and p.value]
    sha = short_commit(commit.value if commit else "")
    place = sanitize_place(
        f"{kind}:{':'.join(parts) or '?'}"
        + (f":{int(line.value)}" if line else "")
        + (f"@{sha}" if sha else "")
    )
    if place is None:
        problems.append(Problem(filename, lineno, tree.col, UNSAFE_PLACE))
        return None
    secret = _raw_text(raw.value if raw else "", "DecoderName" in tree)
    secret = secret or (raw2.value if raw2 else "")
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


def _raw_text(raw: str, has_decoder: bool) -> str:
    """The secret of ``Raw``: before 3.14 trufflehog wrote it as base64 (Go's ``[]byte``),
    and a report without ``DecoderName`` (added in 3.15) may be one of those. Its value is
    the decoded text when the field is exact base64 of printable UTF-8, which a secret
    written as text practically never is; otherwise the text as written."""
    if has_decoder or len(raw) < 8 or len(raw) % 4:
        return raw
    try:
        text = base64.b64decode(raw, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return raw
    return text if text.isprintable() and base64.b64encode(text.encode()).decode() == raw else raw
