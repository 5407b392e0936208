"""trufflehog's SARIF (``trufflehog ... --sarif``, ``pkg/output/sarif.go``).

One JSON document: per result ``ruleId`` (the detector), ``level`` (``error`` when
verified), ``locations[0].physicalLocation.artifactLocation.uri`` (the file, or
``source_type_<kind>://<source name>`` when the source has none) and ``region.startLine``.
It holds no secret (only trufflehog's own hash of it), so each result is a ``located-...``
key without a fingerprint, like a redacted gitleaks finding.
"""

from __future__ import annotations

from workbench.errors import ImportReportError, Problem
from workbench.inventory.ids import slugify_id
from workbench.inventory.importers._common import (
    NO_MAPPING,
    UNSAFE_PLACE,
    Hit,
    field,
    mapping_at,
    sanitize_place,
)
from workbench.inventory.model import Location
from workbench.inventory.yamlsafe import Scalar, YMap, YSeq
from workbench.secrets import show_value

__all__ = ["is_sarif", "trufflehog_sarif_hits"]


def is_sarif(tree: object) -> bool:
    """True for a SARIF document (an object with ``runs``)."""
    return type(tree) is YMap and "runs" in tree


def trufflehog_sarif_hits(
    tree: YMap, filename: str, problems: list[Problem], line_of: int | None = None
) -> list[Hit]:
    """The hits of trufflehog's SARIF ``tree``; ``line_of`` replaces every node's line
    (the document was parsed alone from that line of the file)."""
    runs = tree["runs"]
    hits: list[Hit] = []
    if type(runs) is not YSeq:
        raise ImportReportError(Problem(filename, runs.line, runs.col, "SARIF runs must be a list"))
    for run in runs:
        name = (mapping_at(run, ("tool", "driver")) or NO_MAPPING).get("name")
        if type(name) is Scalar and name.value.lower() != "trufflehog":
            tool = show_value(name.value)
            fix = (
                "use 'workbench import gitleaks'"
                if "gitleaks" in tool.lower()
                else "import a trufflehog report"
            )
            msg = f"this SARIF comes from {tool}, not trufflehog; {fix}"
            raise ImportReportError(Problem(filename, line_of or name.line, name.col, msg))
        results = run.get("results") if type(run) is YMap else None
        null = type(results) is Scalar and results.plain and results.value == "null"
        if results is not None and type(results) is not YSeq and not null:
            msg = "SARIF results must be a list of results"
            problems.append(Problem(filename, line_of or results.line, results.col, msg))
        for n, result in enumerate(results if type(results) is YSeq else (), 1):
            hit = _result(result, f"result {n}", filename, problems, line_of)
            if hit is not None:
                hits.append(hit)
    return hits


def _result(
    result: object, what: str, filename: str, problems: list[Problem], line_of: int | None
) -> Hit | None:
    located: list[Problem] = []
    physical = mapping_at(result, ("locations", 0, "physicalLocation"))
    artifact = mapping_at(physical, ("artifactLocation",))
    if type(result) is not YMap or artifact is None:
        node = result if type(result) in (YMap, YSeq, Scalar) else None
        line, col = (node.line, node.col) if node is not None else (0, 0)
        msg = f"{what} has no locations[0].physicalLocation.artifactLocation"
        problems.append(Problem(filename, line_of or line, col, msg))
        return None
    uri = field(artifact, "uri", located, filename, what)
    region = mapping_at(physical, ("region",)) or NO_MAPPING
    line = field(region, "startLine", located, filename, what, required=False, kind="count")
    rule = field(result, "ruleId", located, filename, what, required=False)
    level = field(result, "level", located, filename, what, required=False)
    problems.extend(Problem(p.file, line_of or p.line, p.col, p.message) for p in located)
    if located or uri is None:
        return None
    scheme, sep, rest = uri.value.partition("://")
    where = (
        f"{slugify_id(scheme.removeprefix('source_type_'), fallback='source')}:{rest}"
        if sep
        else f"repo:{uri.value}"
    )
    place = sanitize_place(where + (f":{int(line.value)}" if line else ""))
    if place is None:
        msg = f"{what}: {UNSAFE_PLACE}"
        problems.append(Problem(filename, line_of or uri.line, uri.col, msg))
        return None
    tag = "trufflehog:" + slugify_id(rule.value if rule else "", fallback="detector")
    verified = level is not None and level.value == "error"
    return Hit(None, place, tag, Location(filename, line_of or result.line, result.col), verified)
