"""gitleaks reports in its other formats: SARIF (``-f sarif``) and CSV (``-f csv``).

Recognised by their structure, not their file name: SARIF is a JSON object with ``runs``;
a CSV report's first row names gitleaks' columns.

- SARIF, gitleaks 8: per result ``ruleId``, ``locations[0].physicalLocation`` with
  ``artifactLocation.uri`` and ``region.startLine``, the secret in ``region.snippet.text``,
  the commit in ``partialFingerprints.commitSha``. gitleaks 7 put the secret in
  ``properties.offender`` (the snippet is then the whole line: never read), the commit in
  ``properties.commit``, and a link (``https://host/org/repo/blob/COMMIT/PATH#L12``) in
  the uri when it had one: the path is taken from it.
- CSV, gitleaks 8: ``RuleID, Commit, File, ..., Secret, Match, StartLine, ...``;
  gitleaks 7: ``repo, line, commit, offender, leakURL, rule, ..., file, date`` (its
  ``line`` is the text of the line, secret included: never read; no line number).

Secrets are hashed in memory and never kept, as for the JSON report.
"""

from __future__ import annotations

import csv
import io
import re

from workbench.errors import ImportReportError, Problem
from workbench.inventory.importers._common import (
    NO_MAPPING,
    Hit,
    field,
    inventory_from_hits,
    mapping_at,
    parse_json_report,
    raise_problems,
)
from workbench.inventory.importers.gitleaks import gitleaks_hit
from workbench.inventory.model import Inventory, Location
from workbench.inventory.yamlsafe import Scalar, YMap, YSeq
from workbench.secrets import show_value

__all__ = ["import_gitleaks_other"]

_SARIF = re.compile(r'\s*\{[^\[]{0,400}"(?:runs|\$schema)"')
_LINK = re.compile(r"[a-z][a-z0-9+.-]*://[^/]+/.+?/(?:blob|src|-/blob)/[^/]+/([^#?]+)")


def import_gitleaks_other(text: str, filename: str) -> Inventory | None:
    """The inventory of a SARIF or CSV gitleaks report, or None when ``text`` is neither."""
    if _SARIF.match(text):
        tree = parse_json_report(text, filename, "a gitleaks SARIF report")
        if type(tree) is YMap and "runs" in tree:
            return _sarif(tree, filename)
        return None
    header = text.split("\n", 1)[0].lower()
    cells = {c.strip().strip('"') for c in header.split(",")}
    if "file" in cells and ("secret" in cells or "offender" in cells):
        return _csv(text, filename)
    return None


def _sarif(tree: YMap, filename: str) -> Inventory:
    problems: list[Problem] = []
    hits: list[Hit] = []
    runs = tree["runs"]
    if type(runs) is not YSeq:
        raise ImportReportError(Problem(filename, runs.line, runs.col, "SARIF runs must be a list"))
    for run in runs:
        driver = mapping_at(run, ("tool", "driver"))
        name = driver.get("name") if driver is not None else None
        if type(name) is Scalar and name.value.lower() != "gitleaks":
            tool = show_value(name.value)
            msg = f"this SARIF comes from {tool}, not gitleaks; import a gitleaks report"
            raise ImportReportError(Problem(filename, name.line, name.col, msg))
        results = run.get("results") if type(run) is YMap else None
        if results is None or (type(results) is Scalar and results.value == "null"):
            continue  # a run without findings
        if type(results) is not YSeq:
            msg = "SARIF results must be a list of results"
            problems.append(Problem(filename, results.line, results.col, msg))
            continue
        for n, result in enumerate(results, 1):
            hit = _sarif_result(result, f"result {n}", filename, problems)
            if hit is not None:
                hits.append(hit)
    if problems:
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)


def _sarif_result(result: object, what: str, filename: str, problems: list[Problem]) -> Hit | None:
    if type(result) is not YMap:
        node = result if isinstance(result, Scalar | YMap | YSeq) else None
        line, col = (node.line, node.col) if node is not None else (0, 0)
        problems.append(Problem(filename, line, col, f"{what} is not an object"))
        return None
    before = len(problems)
    physical = mapping_at(result, ("locations", 0, "physicalLocation"))
    artifact = mapping_at(physical, ("artifactLocation",))
    region = mapping_at(physical, ("region",)) or NO_MAPPING
    props = mapping_at(result, ("properties",)) or NO_MAPPING
    if artifact is None:
        msg = f"{what} has no locations[0].physicalLocation.artifactLocation; is this gitleaks?"
        problems.append(Problem(filename, result.line, result.col, msg))
        return None
    uri = field(artifact, "uri", problems, filename, what)
    line = field(region, "startLine", problems, filename, what, required=False, kind="count")
    rule = field(result, "ruleId", problems, filename, what, required=False)
    offender = field(props, "offender", problems, filename, what, required=False)
    if offender is not None:  # gitleaks 7: the snippet is the whole line
        secret = offender
        commit = field(props, "commit", problems, filename, what, required=False)
    else:
        snippet = mapping_at(region, ("snippet",))
        secret = field(snippet, "text", problems, filename, what) if snippet is not None else None
        if snippet is None:
            msg = f"{what} has no region.snippet.text (the secret); is this gitleaks?"
            problems.append(Problem(filename, result.line, result.col, msg))
        fingerprints = mapping_at(result, ("partialFingerprints",)) or NO_MAPPING
        commit = field(fingerprints, "commitSha", problems, filename, what, required=False)
    if len(problems) > before or uri is None or secret is None:
        return None
    link = _LINK.match(uri.value)
    if link:
        uri = Scalar(link[1], uri.line, uri.col, uri.plain)
    return gitleaks_hit(
        uri,
        line,
        secret.value,
        rule.value if rule else "",
        commit.value if commit else "",
        Location(filename, result.line, result.col),
        what,
        problems,
    )


# CSV columns (lower case) -> what they are, per generation
_CSV_NAMES = {"file": "file", "startline": "line", "secret": "secret", "offender": "secret"}
_CSV_NAMES |= {"ruleid": "rule", "rule": "rule", "commit": "commit"}


def _csv(text: str, filename: str) -> Inventory:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    hits: list[Hit] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
        col = {_CSV_NAMES[h]: i for i, h in reversed(list(enumerate(header))) if h in _CSV_NAMES}
        prev = reader.line_num
        for row in reader:
            start, prev = prev + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                msg = f"row has {len(row)} cells, the header has {len(header)}; is it whole?"
                problems.append(Problem(filename, start, 1, msg))
                continue
            hit = _csv_row(row, col, start, filename, problems)
            if hit is not None:
                hits.append(hit)
    except csv.Error as exc:
        msg = f"bad CSV: {exc} in the row that starts here; is the report whole?"
        problems.append(Problem(filename, prev + 1, 1, msg))
    if problems:
        raise_problems(problems, filename)
    return inventory_from_hits(hits, filename)


def _csv_row(
    row: list[str], col: dict[str, int], start: int, filename: str, problems: list[Problem]
) -> Hit | None:
    def cell(name: str) -> str:
        return row[col[name]] if name in col else ""

    line: int | None = None
    if "line" in col:
        text = cell("line").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            msg = f"StartLine must be a whole number (column {col['line'] + 1})"
            problems.append(Problem(filename, start, col["line"] + 1, msg))
            return None
        line = int(text)
    if not cell("file"):
        problems.append(Problem(filename, start, col["file"] + 1, "File is empty"))
        return None
    file_ = Scalar(cell("file"), start, col["file"] + 1, False)
    return gitleaks_hit(
        file_,
        line,
        cell("secret"),
        cell("rule"),
        cell("commit"),
        Location(filename, start, 1),
        f"the row on line {start}",
        problems,
    )
