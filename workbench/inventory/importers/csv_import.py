"""Import integrations from a CSV sheet: one row per (consumer, key) integration.

Header row required; column names (any order, unknown names are errors):

=====================  ========================================================
consumer, key, api     required: service id, key id, API id
header                 HTTP header of the key (default X-API-Key)
secret_ref             env:NAME or file:PATH (never the key itself)
created, last_rotated  dates YYYY-MM-DD
found_in               places, separated by ``;``
fingerprint            12 hex (SHA-256 prefix) or sha1:12hex
key_tags               labels for the key, ``;``-separated
api_url                https base URL; with api_owner, api_environment and
data_classes           data_classes (``;``-separated) declares the API
api_owner, api_environment, api_health_path, api_provided_by
consumer_owner         with consumer_environment declares the consumer service
consumer_environment   (exposure defaults to internal)
exposure               internet | partner | internal
third_party            true | false
dns_names              ``;``-separated
calls_per_day          whole number
=====================  ========================================================

An API or service is declared by the first row that fills its columns; later rows may
leave them empty or must repeat the same values. One that no row declares must exist in
the ``base`` inventory (``--into``). A key's attributes work the same way, except
``found_in`` and ``key_tags``, which are unioned over rows. Every value goes through the
same checks as the YAML loader (types, safe ids, pasted secrets). Errors are located as
``FILE:LINE:COL`` where COL is the 1-based CSV column number.
"""

from __future__ import annotations

import csv
import difflib
import io
import re

from workbench.errors import ImportReportError, Problem
from workbench.inventory.importers._common import raise_problems
from workbench.inventory.loader import read_tree
from workbench.inventory.model import Inventory
from workbench.inventory.yamlsafe import Scalar, YMap, YSeq, max_bytes, too_large

__all__ = ["CSV_COLUMNS", "import_csv"]

# column -> (entity, field in the inventory format, is a list, is typed (plain) )
_COLS: dict[str, tuple[str, str, bool, bool]] = {
    "consumer": ("integration", "consumer", False, False),
    "key": ("integration", "key", False, False),
    "calls_per_day": ("integration", "calls_per_day", False, True),
    "api": ("key", "api", False, False),
    "header": ("key", "header", False, False),
    "secret_ref": ("key", "secret_ref", False, False),
    "created": ("key", "created", False, True),
    "last_rotated": ("key", "last_rotated", False, True),
    "found_in": ("key", "found_in", True, False),
    "fingerprint": ("key", "fingerprint", False, False),
    "key_tags": ("key", "tags", True, False),
    "api_url": ("api", "url", False, False),
    "api_health_path": ("api", "health_path", False, False),
    "data_classes": ("api", "data_classes", True, False),
    "api_owner": ("api", "owner", False, False),
    "api_environment": ("api", "environment", False, False),
    "api_provided_by": ("api", "provided_by", False, False),
    "consumer_owner": ("service", "owner", False, False),
    "consumer_environment": ("service", "environment", False, False),
    "exposure": ("service", "exposure", False, False),
    "third_party": ("service", "third_party", False, True),
    "dns_names": ("service", "dns_names", True, False),
}
CSV_COLUMNS = tuple(_COLS)
"""Accepted column names."""
_UNIONED = {("key", "found_in"), ("key", "tags")}
_UNDECLARED = {
    "api": "this api is not in the inventory; fill api_url, api_owner, api_environment and "
    "data_classes on its first row, or import --into an inventory that declares it",
    "service": "this consumer is not in the inventory; fill consumer_owner and "
    "consumer_environment on its first row, or import --into an inventory that declares it",
}


def import_csv(text: str, filename: str = "-", *, base: Inventory | None = None) -> Inventory:
    """The integrations, keys, and newly declared APIs/services of a CSV sheet."""
    if len(text) > max_bytes():
        raise ImportReportError(Problem(filename, 0, 0, too_large(max_bytes())))
    base = base or Inventory()
    problems: list[Problem] = []
    text = text.removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts with a BOM
    sep = _SEP_LINE.match(text)
    if sep:  # Excel's "sep=;" line names the separator; blanked so lines keep their numbers
        delimiter, text = sep[1], "\n" + text[sep.end() :]
    else:
        delimiter = _delimiter(text)
    # strict: an unclosed quote is an error at its row, not a cell that runs to the end
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        while header == []:  # blank lines above the header row
            header = next(reader, None)
    except csv.Error as exc:
        raise ImportReportError(Problem(filename, reader.line_num, 1, f"bad CSV: {exc}")) from None
    if not header or not any(h.strip() for h in header):
        raise ImportReportError(
            Problem(
                filename,
                0,
                0,
                "CSV is empty; the first row names the columns (consumer,key,api,...)",
            )
        )
    columns = [h.strip().lower() for h in header]
    _check_header(columns, filename, reader.line_num)

    entities: dict[str, dict[str, YMap]] = {"api": {}, "service": {}, "key": {}}
    integrations = YSeq(1, 1)
    # id(list node) -> its values: unioning found_in/tags over 100k rows stays linear
    seen: dict[int, set[str]] = {}
    prev_line = reader.line_num
    try:
        for row in reader:
            line = prev_line + 1
            prev_line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                problems.append(
                    Problem(
                        filename,
                        line,
                        min(len(row), len(columns)) + 1,
                        f"row has {len(row)} cells, header has {len(columns)}; "
                        "quote cells that hold the separator",
                    )
                )
                continue
            _row(row, columns, line, filename, entities, integrations, problems, seen)
    except csv.Error as exc:
        msg = f"bad CSV: {exc} in the row that starts here; fix the quoting"
        problems.append(Problem(filename, prev_line + 1, 1, msg))
    if problems:
        raise_problems(problems, filename)

    tree = YMap(1, 1)
    tree["version"] = Scalar("1", 1, 1, True)
    for section, kind in (("apis", "api"), ("services", "service"), ("keys", "key")):
        seq = YSeq(1, 1)
        known = (
            base.apis_by_id if kind == "api" else base.services_by_id if kind == "service" else {}
        )
        for ident, m in entities[kind].items():
            if len(m) == 1 and kind != "key":
                if ident not in known:
                    problems.append(Problem(filename, m.line, m["id"].col, _UNDECLARED[kind]))
                continue  # only named here; declared in the base inventory
            seq.append(m)
        tree[section] = seq
    tree["integrations"] = integrations
    for section in ("version", "apis", "services", "keys", "integrations"):
        tree.keypos[section] = (1, 1)
    inv, more = read_tree(tree, filename)
    problems += more
    if problems:
        problems.sort(key=lambda p: (p.line, p.col))
        raise_problems(problems, filename)
    return inv


_SEP_LINE = re.compile(r"sep=([,;\t|])[ \t]*\r?\n", re.IGNORECASE)


def _delimiter(text: str) -> str:
    """``,`` unless the header row names more columns split by ``;`` or a tab.

    Spreadsheets in locales with a decimal comma save "CSV" with semicolons; the header's
    known column names tell which separator a sheet uses without guessing from the data.
    """
    first = text.split("\n", 1)[0]
    best, hits = ",", 0
    for sep in (",", ";", "\t"):
        n = sum(1 for cell in first.split(sep) if cell.strip().strip('"').lower() in _COLS)
        if n > hits:
            best, hits = sep, n
    return best


def _check_header(columns: list[str], filename: str, line: int) -> None:
    """One problem per wrong column name; a row of no known names is one problem in all."""
    if "file" in columns and ("secret" in columns or "offender" in columns):
        msg = "this is a gitleaks CSV report: use 'workbench import gitleaks'"
        raise ImportReportError(Problem(filename, line, 1, msg))
    if not any(name in _COLS for name in columns):
        msg = (
            "the first row names no known column; it must be the header row "
            "(consumer,key,api,...): add it, or check that this is the CSV sheet"
        )
        raise ImportReportError(Problem(filename, line, 1, msg))
    problems = []
    for n, name in enumerate(columns, 1):
        if not name:
            continue  # an empty column (Excel keeps touched cells): its cells must stay empty
        if name not in _COLS:
            hint = difflib.get_close_matches(name, CSV_COLUMNS, n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(Problem(filename, line, n, f"unknown column {ascii(name[:40])}{tip}"))
        elif name in columns[: n - 1]:
            first = columns.index(name) + 1
            msg = f"column {name!r} appears twice (first as column {first}); keep one"
            problems.append(Problem(filename, line, n, msg))
    missing = [need for need in ("consumer", "key", "api") if need not in columns]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        problems.append(Problem(filename, line, 0, f"missing column {names}; add it to the header"))
    if problems:
        raise ImportReportError(problems)


def _row(row, columns, line, filename, entities, integrations, problems, seen) -> None:
    cells: dict[str, tuple[str, int]] = {}
    for n, (name, cell) in enumerate(zip(columns, row, strict=True), 1):
        if name:
            cells[name] = (cell.strip(), n)
        elif cell.strip():
            msg = f"column {n} has a value but no name in the header; name it or clear the cell"
            problems.append(Problem(filename, line, n, msg))
            return
    consumer, key, api = cells["consumer"], cells["key"], cells["api"]
    for name, (value, col) in (("consumer", consumer), ("key", key), ("api", api)):
        if not value:
            problems.append(
                Problem(
                    filename,
                    line,
                    col,
                    f"{name} is empty; every row names a consumer, a key and an api",
                )
            )
            return
    ids = {"integration": None, "key": key[0], "api": api[0], "service": consumer[0]}
    integ = YMap(line, 1)
    integrations.append(integ)
    for kind in ("api", "service", "key"):
        ident = ids[kind]
        m = entities[kind].get(ident)
        if m is None:
            m = entities[kind][ident] = YMap(line, 1)
            col = {"api": api, "service": consumer, "key": key}[kind][1]
            _put(m, "id", Scalar(ident, line, col, False))
    for name, (value, col) in cells.items():
        kind, fname, is_list, typed = _COLS[name]
        if not value:
            continue
        node: Scalar | YSeq
        if is_list:
            node = YSeq(line, col)
            node.extend(Scalar(v.strip(), line, col, False) for v in value.split(";") if v.strip())
        else:
            node = Scalar(value, line, col, typed)
        target = integ if kind == "integration" else entities[kind][ids[kind]]
        if fname in target and kind != "integration":
            old = target[fname]
            if (kind, fname) in _UNIONED:
                have = seen.setdefault(id(old), {s.value for s in old})
                for item in node:
                    if item.value not in have:
                        have.add(item.value)
                        old.append(item)
            elif _plain(old) != _plain(node):
                problems.append(
                    Problem(
                        filename,
                        line,
                        col,
                        f"{name} differs from line {old.line} for the same {kind}; use one value",
                    )
                )
            continue
        _put(target, fname, node)
    svc = entities["service"][consumer[0]]
    if "exposure" not in svc and ("owner" in svc or "environment" in svc):
        _put(svc, "exposure", Scalar("internal", line, 1, False))


def _plain(node) -> object:
    return node.value if type(node) is Scalar else tuple(s.value for s in node)


def _put(m: YMap, name: str, node) -> None:
    m[name] = node
    m.keypos[name] = (node.line, node.col)
