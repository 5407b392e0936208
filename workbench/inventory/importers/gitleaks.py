"""Import a gitleaks JSON report (``gitleaks detect -f json -r out.json``), any version.

The report is one JSON array of findings. gitleaks 8 names the fields ``RuleID``, ``File``,
``StartLine``, ``Commit`` and ``Secret``; gitleaks 5 to 7 wrote ``rule``, ``file``,
``lineNumber``, ``commit`` and ``offender`` (gitleaks 4: no line number). Field names are
matched without regard to case, so both (and a report lower-cased by ``jq``) read the same.
The secret is hashed in memory and never kept; ``Match``/``line`` (the whole line, secret
included) are never read. With ``--redact`` the secret reads ``REDACTED`` (or a kept prefix
ending ``...``); such findings become ``located-...`` keys without a fingerprint. Each
finding becomes a ``found_in`` entry ``repo:FILE:LINE`` (``@COMMIT12`` when a commit is given).

No findings: gitleaks 8.5+ writes ``[]`` (``null`` from a nil list), 8.0-8.4 a zero-byte
file, gitleaks 7 none at all; an empty or ``null`` report is a report of no findings.
SARIF (``-f sarif``) and CSV (``-f csv``) reports are read by ``gitleaks_other``.
"""

from __future__ import annotations

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
    short_commit,
)
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import Scalar, YMap, YSeq
from workbench.secrets import fingerprint

__all__ = ["fields_read", "gitleaks_hit", "import_gitleaks", "is_redacted"]

# What a finding's fields are called, gitleaks 8 first, then 5-7; lower case, as matched.
_FILE = ("file",)
_LINE = ("startline", "linenumber")
_SECRET = ("secret", "offender")
_RULE = ("ruleid", "rule")
_COMMIT = ("commit",)
_READ = frozenset((*_FILE, *_LINE, *_SECRET, *_RULE, *_COMMIT))
"""The fields kept when the report is read (the rest, ``Match`` with the secret in it too,
never reach the tree)."""
_V7_ONLY = frozenset(("offender", "linenumber", "rule"))


def fields_read() -> frozenset[str]:
    """The fields of a finding this importer reads (lower case); the rest are dropped."""
    return _READ


def is_redacted(secret: str) -> bool:
    """True for gitleaks' redacted forms (``REDACTED``, or a kept prefix ending ``...``)."""
    return not secret or "REDACTED" in secret or secret.endswith("...")


def import_gitleaks(text: str, filename: str = "-") -> Inventory:
    """Keys (on the ``unassigned`` API) from a gitleaks report; ``ImportReportError`` if bad."""
    if text.strip() in ("", "null"):
        return inventory_from_hits([], filename)
    from workbench.inventory.importers.gitleaks_other import import_gitleaks_other

    other = import_gitleaks_other(text, filename)
    if other is not None:
        return other
    shape = "a JSON array of findings (gitleaks detect -f json)"
    tree = parse_json_report(text, filename, shape, only=_READ)
    if type(tree) is not YSeq:
        raise ImportReportError(
            Problem(filename, tree.line, tree.col, f"a gitleaks report is {shape}{kind_hint(tree)}")
        )
    problems: list[Problem] = []
    hits: list[Hit] = []
    for n, item in enumerate(tree, 1):
        if type(item) is not YMap:
            problems.append(Problem(filename, item.line, item.col, f"finding {n} is not an object"))
            continue
        hit = _finding(item, f"finding {n}", filename, problems)
        if hit is not None:
            hits.append(hit)
    if problems:
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)


def _finding(item: YMap, what: str, filename: str, problems: list[Problem]) -> Hit | None:
    """The hit of one finding of either generation, or None with its problems added."""
    names = {k.lower(): k for k in item}
    old = not _V7_ONLY.isdisjoint(names)

    def get(choices: tuple[str, ...], canonical: str, **kw: object) -> Scalar | None:
        name = next((names[c] for c in choices if c in names), canonical)
        return field(item, name, problems, filename, what, **kw)  # type: ignore[arg-type]

    file_ = get(_FILE, "file" if old else "File")
    # gitleaks 4 wrote no line number: the place is then the file alone
    line = get(_LINE, "lineNumber" if old else "StartLine", kind="count", required=not old)
    secret = get(_SECRET, "offender" if old else "Secret")
    rule = get(_RULE, "RuleID", required=False)
    commit = get(_COMMIT, "Commit", required=False)
    if file_ is None or secret is None or (line is None and not old):
        return None
    return gitleaks_hit(
        file_,
        line,
        secret.value,
        rule.value if rule else "",
        commit.value if commit else "",
        Location(filename, item.line, item.col),
        what,
        problems,
    )


def gitleaks_hit(
    file_: Scalar,
    line: Scalar | int | None,
    secret: str,
    rule: str,
    commit: str,
    where: Location,
    what: str,
    problems: list[Problem],
) -> Hit | None:
    """The hit for a file (its node, for the location of a problem), line, secret, rule and
    commit, as every gitleaks format gives them; None with a problem if the place is unsafe."""
    sha = short_commit(commit)
    number = line if type(line) is int else int(line.value) if line is not None else 0
    place = sanitize_place(
        f"repo:{file_.value}" + (f":{number}" if number else "") + (f"@{sha}" if sha else "")
    )
    if place is None:
        msg = f"{what}: {UNSAFE_PLACE}"
        problems.append(Problem(where.file, file_.line, file_.col, msg))
        return None
    fp = None if is_redacted(secret) else fingerprint(secret)
    return Hit(fp, place, "gitleaks:" + slugify_id(rule, fallback="rule"), where)
