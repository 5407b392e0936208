"""The table of malformed inputs the CLI must refuse in one located line (exit 2).

Each case holds exactly one defect, so the product rule can be checked strictly: one line on
stderr that names the file (and the line where one exists). Shared by the in-process table
test and the hypothesis mutation test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inventory"

MINI = """\
version: 1
apis:
  - id: pay-api
    url: https://pay.acme.test/
    health_path: /health
    data_classes: [pci]
    owner: team-pay
    environment: prod
services:
  - id: web
    owner: team-web
    environment: prod
    exposure: internal
keys:
  - id: pay-key
    api: pay-api
    created: 2024-01-02
integrations:
  - consumer: web
    key: pay-key
    calls_per_day: 100
"""
"""A valid inventory (exit 0 or 1 from ``inventory check``); each case breaks one thing."""

GITLEAKS = (FIXTURES / "gitleaks.json").read_text()
TRUFFLEHOG = (FIXTURES / "trufflehog.jsonl").read_text()
DETECT_SECRETS = (FIXTURES / "detect-secrets.baseline").read_text()
CSV = (FIXTURES / "integrations.csv").read_text()

ALIAS_BOMB = MINI.replace(
    "    exposure: internal\n",
    "    exposure: internal\n    tags: [&a [x, x, x, x, x, x, x, x, x], "
    + ", ".join(
        f"&{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)
    )
    + "]\n",
    1,
)
"""Billion laughs in one field: 9 * 3**8 = 59,049 values if aliases were expanded."""


@dataclass(frozen=True)
class Bad:
    """One malformed input: what reads it, its bytes, what the one line must say."""

    kind: str
    """``inventory`` or a report kind of ``workbench import`` (csv, gitleaks, ...)."""
    data: bytes
    """The file's content."""
    expect: str
    """A fragment of the message."""
    line: int | None = None
    """The line the message must name (None: the file as a whole, ``:0:0``)."""


def _inv(old: str, new: str) -> bytes:
    assert old in MINI, old
    return MINI.replace(old, new, 1).encode()


def _gitleaks(**fields: object) -> bytes:
    findings = json.loads(GITLEAKS)
    for name, value in fields.items():
        if value is ...:
            findings[0].pop(name)
        else:
            findings[0][name] = value
    return json.dumps(findings, indent=1).encode()


def _trufflehog(change) -> bytes:  # noqa: ANN001
    first, rest = TRUFFLEHOG.split("\n", 1)
    finding = json.loads(first)
    change(finding)
    return (json.dumps(finding) + "\n" + rest).encode()


def _baseline(change) -> bytes:  # noqa: ANN001
    doc = json.loads(DETECT_SECRETS)
    change(doc["results"]["checkout/config/prod.env"][0])
    return json.dumps(doc, indent=1).encode()


def _csv(old: str, new: str) -> bytes:
    assert old in CSV, old
    return CSV.replace(old, new, 1).encode()


def _semicolon_sheet(*, unquote_first_list: bool = False) -> bytes:
    """The sample sheet as a spreadsheet in a decimal-comma locale saves it: ``;`` between
    cells, so the ``;``-separated lists are quoted."""
    text = CSV.replace("pci;pii", "<pci|pii>").replace("pci;internal", "<pci|internal>")
    text = text.replace(",", ";").replace("|", ";").replace("<", '"').replace(">", '"')
    if unquote_first_list:
        text = text.replace('"pci;pii"', "pci;pii", 1)
    return text.encode()


INVENTORY_CASES: dict[str, Bad] = {
    # file level
    "empty": Bad("inventory", b"", "file is empty"),
    "only-comment": Bad("inventory", b"# nothing yet\n", "file is empty"),
    "non-utf8": Bad(
        "inventory",
        _inv("team-web", "caf\xe9").replace(b"\xc3\xa9", b"\xe9"),
        "not valid UTF-8",
        11,
    ),
    "utf16": Bad("inventory", MINI.encode("utf-16"), "not valid UTF-8", 1),
    # structure
    "list-at-top": Bad("inventory", b"- version: 1\n", "expected a mapping at the top", 1),
    "scalar-at-top": Bad("inventory", b"inventory\n", "expected a mapping at the top", 1),
    "json-null": Bad("inventory", b"null", "expected a mapping at the top", 1),
    "apis-scalar": Bad("inventory", b"version: 1\napis: payments\n", "apis must be a list", 2),
    "apis-mapping": Bad("inventory", b"version: 1\napis: {id: a}\n", "apis must be a list", 2),
    "entry-null": Bad(
        "inventory", b"version: 1\napis:\n  - null\n", "each entry of apis must be a mapping", 3
    ),
    "list-for-text": Bad(
        "inventory",
        _inv("owner: team-web", "owner: [team-web]"),
        "owner must be a single value",
        11,
    ),
    "mapping-for-ref": Bad(
        "inventory",
        _inv("consumer: web", "consumer: {id: web}"),
        "consumer must be a single value",
        19,
    ),
    "null-required": Bad("inventory", _inv("owner: team-pay", "owner: null"), "missing owner", 7),
    "null-id": Bad(
        "inventory",
        _inv(
            "services:\n",
            "services:\n  - id: ~\n    owner: o\n    environment: prod\n    exposure: internal\n",
        ),
        "missing id",
        10,
    ),
    "unknown-field": Bad(
        "inventory",
        _inv("exposure: internal", "exposure: internal\n    expsure: x"),
        "did you mean 'exposure'",
        14,
    ),
    # ids and references
    "duplicate-id": Bad(
        "inventory",
        _inv(
            "services:\n",
            "services:\n  - id: web\n    owner: o\n    environment: prod\n    exposure: internal\n",
        ),
        "duplicate service id 'web'",
        14,
    ),
    "duplicate-key": Bad(
        "inventory", _inv("version: 1\n", "version: 1\nversion: 1\n"), "duplicate key 'version'", 2
    ),
    "unknown-api": Bad("inventory", _inv("api: pay-api", "api: pay-apu"), "nearest: 'pay-api'", 15),
    "unknown-consumer": Bad(
        "inventory", _inv("consumer: web", "consumer: wbe"), "nearest: 'web'", 19
    ),
    # YAML 1.1 type traps and numbers
    "bool-no": Bad(
        "inventory", _inv("owner: team-web", "owner: no"), "'no' is read as a number, boolean", 11
    ),
    "bool-on": Bad("inventory", _inv("owner: team-web", "owner: on"), "'on' is read as", 11),
    "octal-id": Bad(
        "inventory",
        _inv("exposure: internal", "exposure: internal\n    tags: [0755]"),
        "'0755' is read as a number",
        14,
    ),
    "date-text": Bad(
        "inventory",
        _inv("owner: team-pay", "owner: 2024-01-01"),
        "is read as a number, boolean, date",
        7,
    ),
    "bad-date": Bad(
        "inventory",
        _inv("created: 2024-01-02", "created: 2024-13-45"),
        "created must be a date",
        17,
    ),
    "huge-count": Bad(
        "inventory",
        _inv("calls_per_day: 100", "calls_per_day: 99999999999999999999999"),
        "calls_per_day must be a whole number",
        21,
    ),
    "float-count": Bad(
        "inventory",
        _inv("calls_per_day: 100", "calls_per_day: 1e3"),
        "calls_per_day must be a whole number",
        21,
    ),
    "version-huge": Bad(
        "inventory",
        _inv("version: 1", "version: 1" + "0" * 400),
        "version must be a whole number",
        1,
    ),
    "bool-yes": Bad(
        "inventory",
        _inv("exposure: internal", "exposure: internal\n    third_party: yes"),
        "third_party must be true or false",
        14,
    ),
    # hostile YAML
    "alias-bomb": Bad(
        "inventory",
        ALIAS_BOMB.encode(),
        "aliases (*name) are not allowed; write the values out (32 more in this file)",
        14,
    ),
    "python-tag": Bad(
        "inventory",
        _inv("owner: team-web", "owner: !!python/name:os.system team-web"),
        "tags (!...) are not allowed",
        11,
    ),
    "deep-flow": Bad(
        "inventory",
        b"version: 1\nx: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
        "nested deeper than 64 levels",
        2,
    ),
    "deep-block": Bad(
        "inventory",
        b"version: 1\nx:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 200)),
        "nested deeper than 64 levels",
        66,
    ),
    "two-documents": Bad(
        "inventory", MINI.encode() + b"---\nversion: 1\n", "more than one YAML document", 22
    ),
    "syntax": Bad(
        "inventory", _inv("data_classes: [pci]", "data_classes: [pci"), "YAML syntax error", 7
    ),
    "tab-indent": Bad(
        "inventory", _inv("    owner: team-web", "\towner: team-web"), "YAML syntax error", 11
    ),
    # characters and line endings
    "nul-byte": Bad("inventory", _inv("team-web", "team\x00web"), "character not allowed", 11),
    "escape-in-quoted": Bad(
        "inventory",
        _inv("owner: team-web", 'owner: "team\\x1b[31mweb"'),
        "control or invisible character",
        11,
    ),
    "bidi-in-id": Bad("inventory", _inv("owner: team-web", "owner: team\u202eweb"), "U+202E", 11),
    "bom-then-defect": Bad(
        "inventory", b"\xef\xbb\xbf" + _inv("owner: team-web", "owner: no"), "'no' is read as", 11
    ),
    "crlf-then-defect": Bad(
        "inventory",
        _inv("owner: team-web", "owner: no").replace(b"\n", b"\r\n"),
        "'no' is read as",
        11,
    ),
    "long-line": Bad(
        "inventory",
        _inv("owner: team-web", "owner: team-web" + "x" * 3_000_000 + "\x07"),
        "character not allowed",
        11,
    ),
}

REPORT_CASES: dict[str, Bad] = {
    # gitleaks: one JSON array
    "gitleaks-empty": Bad("gitleaks", b"", "report is empty"),
    "gitleaks-object": Bad("gitleaks", b'{"findings": []}', "a gitleaks report is a JSON array", 1),
    "gitleaks-sarif": Bad(
        "gitleaks", b'{"version": "2.1.0", "runs": []}', "a gitleaks report is a JSON array", 1
    ),
    "gitleaks-yaml": Bad(
        "gitleaks", b"- File: a.env\n  StartLine: 1\n  Secret: abc\n", "not the expected report", 1
    ),
    "gitleaks-truncated": Bad("gitleaks", GITLEAKS[:300].encode(), "YAML syntax error", 10),
    "gitleaks-trailing": Bad("gitleaks", GITLEAKS.encode() + b"\n{}\n", "YAML syntax error", 65),
    "gitleaks-null-finding": Bad("gitleaks", b"[null]", "finding 1 is not an object", 1),
    "gitleaks-file-int": Bad("gitleaks", _gitleaks(File=5), "File must be a JSON string", 11),
    "gitleaks-file-list": Bad(
        "gitleaks", _gitleaks(File=["a"]), "File must be a JSON string, not a list", 11
    ),
    "gitleaks-line-text": Bad(
        "gitleaks", _gitleaks(StartLine="12"), "StartLine must be a number", 5
    ),
    "gitleaks-line-huge": Bad(
        "gitleaks", _gitleaks(StartLine=10**40), "StartLine must be a number", 5
    ),
    "gitleaks-line-negative": Bad(
        "gitleaks", _gitleaks(StartLine=-1), "StartLine must be a number", 5
    ),
    "gitleaks-secret-missing": Bad("gitleaks", _gitleaks(Secret=...), "has no Secret", 2),
    "gitleaks-secret-int": Bad(
        "gitleaks", _gitleaks(Secret=12345), "Secret must be a JSON string", 10
    ),
    "gitleaks-file-control": Bad("gitleaks", _gitleaks(File="a\u001b[31m.env"), "unprintable", 11),
    "gitleaks-deep": Bad(
        "gitleaks", b"[" * 10_000 + b"]" * 10_000, "nested deeper than 64 levels", 1
    ),
    # trufflehog: JSON Lines
    "trufflehog-pretty": Bad(
        "trufflehog",
        json.dumps(json.loads(TRUFFLEHOG.split("\n")[0]), indent=2).encode(),
        "one JSON document, not JSON Lines",
        1,
    ),
    "trufflehog-array": Bad(
        "trufflehog", GITLEAKS.encode(), "one JSON document, not JSON Lines", 1
    ),
    "trufflehog-log-line": Bad(
        "trufflehog",
        b"2024-05-01T10:00:00Z\tinfo\trunning source\n" + TRUFFLEHOG.encode(),
        "not a JSON object",
        1,
    ),
    "trufflehog-cut-short": Bad(
        "trufflehog",
        TRUFFLEHOG.encode() + TRUFFLEHOG.split("\n")[0][:80].encode(),
        "not a JSON object",
        4,
    ),
    "trufflehog-no-source": Bad(
        "trufflehog",
        _trufflehog(lambda f: f.pop("SourceMetadata")),
        "SourceMetadata.Data must name exactly one source",
        1,
    ),
    "trufflehog-line-huge": Bad(
        "trufflehog",
        _trufflehog(lambda f: f["SourceMetadata"]["Data"]["Git"].update(line=10**30)),
        "line must be a number",
        1,
    ),
    "trufflehog-file-list": Bad(
        "trufflehog",
        _trufflehog(lambda f: f["SourceMetadata"]["Data"]["Git"].update(file=["a"])),
        "file must be a JSON string",
        1,
    ),
    "trufflehog-raw-object": Bad(
        "trufflehog", _trufflehog(lambda f: f.update(Raw={"k": 1})), "Raw must be a JSON string", 1
    ),
    "trufflehog-verified-text": Bad(
        "trufflehog",
        _trufflehog(lambda f: f.update(Verified="yes")),
        "Verified must be true or false",
        1,
    ),
    # detect-secrets baseline
    "baseline-empty": Bad("detect-secrets", b"", "report is empty"),
    "baseline-list": Bad("detect-secrets", b"[]", "'results' object", 1),
    "baseline-results-null": Bad(
        "detect-secrets", b'{"version": "1.5.0", "results": null}', "'results' object", 1
    ),
    "baseline-version-int": Bad(
        "detect-secrets", b'{"version": 2, "results": {}}', "version must be a JSON string", 1
    ),
    "baseline-hash-short": Bad(
        "detect-secrets",
        _baseline(lambda f: f.update(hashed_secret="abc")),
        "hashed_secret must be 40 hex digits",
        22,
    ),
    "baseline-line-text": Bad(
        "detect-secrets",
        _baseline(lambda f: f.update(line_number="12")),
        "line_number must be a number",
        24,
    ),
    "baseline-is-secret-text": Bad(
        "detect-secrets",
        _baseline(lambda f: f.update(is_secret="false")),
        "is_secret must be true or false",
        25,
    ),
    "baseline-truncated": Bad(
        "detect-secrets", DETECT_SECRETS[:200].encode(), "YAML syntax error", 4
    ),
    "csv-empty": Bad("csv", b"", "CSV is empty"),
    "csv-no-header": Bad("csv", CSV.split("\n", 1)[1].encode(), "names no known column", 1),
    "csv-wrong-file": Bad("csv", GITLEAKS.encode(), "names no known column", 1),
    "csv-unknown-column": Bad(
        "csv", _csv("calls_per_day", "calls_per_dya"), "did you mean 'calls_per_day'", 1
    ),
    "csv-missing-column": Bad("csv", b"consumer,key\na,b\n", "missing column 'api'", 1),
    "csv-duplicate-column": Bad(
        "csv", _csv("header,", "consumer,"), "column 'consumer' appears twice", 1
    ),
    "csv-extra-cell": Bad(
        "csv", _csv("\nmobile-bff,", "\nmobile-bff,extra,"), "row has 17 cells, header has 16", 3
    ),
    "csv-quoted-newline": Bad(
        "csv", _csv("team-web", '"team\nweb"'), "control or invisible character U+000A", 2
    ),
    "csv-unclosed-quote": Bad(
        "csv", _csv(",800", ',"800'), "unexpected end of data in the row that starts here", 3
    ),
    "csv-semicolon-list": Bad(
        "csv", _semicolon_sheet(unquote_first_list=True), "quote cells that hold the separator", 2
    ),
    "csv-bom-then-defect": Bad(
        "csv", b"\xef\xbb\xbf" + _csv("2021-03-01", "2021-13-45"), "created must be a date", 2
    ),
    "csv-huge-count": Bad(
        "csv", _csv(",12000", ",99999999999999999999"), "calls_per_day must be a whole number", 2
    ),
    "csv-control": Bad("csv", _csv("team-web", "team\x1bweb"), "U+001B", 2),
}

ALL_CASES: dict[str, Bad] = {**INVENTORY_CASES, **REPORT_CASES}

VALID_VARIANTS: dict[str, tuple[str, bytes]] = {
    "inventory-bom-crlf": ("inventory", b"\xef\xbb\xbf" + MINI.replace("\n", "\r\n").encode()),
    "inventory-as-json": ("inventory", json.dumps({"version": 1, "apis": []}).encode()),
    "gitleaks-no-findings": ("gitleaks", b"[]\n"),
    "gitleaks-bom-crlf": ("gitleaks", b"\xef\xbb\xbf" + GITLEAKS.replace("\n", "\r\n").encode()),
    "trufflehog-no-findings": ("trufflehog", b""),
    "trufflehog-crlf": ("trufflehog", TRUFFLEHOG.replace("\n", "\r\n").encode()),
    "baseline-v0": (
        "detect-secrets",
        json.dumps(
            {
                "exclude_regex": None,
                "generated_at": "2018-06-01T00:00:00Z",
                "plugins_used": [{"name": "HexHighEntropyString", "hex_limit": 3}],
                "results": {
                    "a.py": [
                        {
                            "hashed_secret": "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
                            "line_number": 3,
                            "type": "Hex High Entropy String",
                        }
                    ]
                },
                "version": "0.12.0",
            }
        ).encode(),
    ),
    "csv-excel-bom-crlf": ("csv", b"\xef\xbb\xbf" + CSV.replace("\n", "\r\n").encode()),
    "csv-semicolon-quoted": ("csv", _semicolon_sheet()),
    "csv-tab": ("csv", CSV.replace(",", "\t").encode()),
    "csv-quoted-cell": (
        "csv",
        _csv("repo:checkout/config/prod.env", '"repo:checkout/config/prod.env"'),
    ),
}
"""Real variants the tools write: accepted, so the table above is not just 'refuse all'."""
