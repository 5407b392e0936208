"""The scanner-report and CSV half of the malformed-input table (see ``bad_inputs``), the
whole table ``ALL_CASES``, and real variants that must be accepted."""

from __future__ import annotations

import json

from bad_inputs import CSV, DETECT_SECRETS, GITLEAKS, INVENTORY_CASES, MINI, TRUFFLEHOG, Bad


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


REPORT_CASES: dict[str, Bad] = {
    # gitleaks: one JSON array
    "gitleaks-object": Bad("gitleaks", b'{"findings": []}', "a gitleaks report is a JSON array", 1),
    "gitleaks-sarif-of-another-tool": Bad(
        "gitleaks",
        b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]}',
        "this SARIF comes from 'CodeQL', not gitleaks",
        1,
    ),
    "gitleaks-yaml": Bad(
        "gitleaks", b"- File: a.env\n  StartLine: 1\n  Secret: abc\n", "not the expected report", 1
    ),
    "gitleaks-truncated": Bad(
        "gitleaks", GITLEAKS[:300].encode(), "the file ends before the JSON does", 10
    ),
    "gitleaks-trailing": Bad(
        "gitleaks", GITLEAKS.encode() + b"\n{}\n", "more than one JSON value", 65
    ),
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
    "gitleaks-file-control": Bad(
        "gitleaks", _gitleaks(File="a\u001b[31m.env"), "a control or invisible character", 11
    ),
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
        "detect-secrets", DETECT_SECRETS[:200].encode(), "the file ends before the JSON", 4
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
        "csv",
        _csv("team-web", '"team\nweb"'),
        "control or invisible character U+000A (a line break)",
        2,
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
    "csv-value-in-unnamed-column": Bad(
        "csv",
        CSV.replace("\n", ",\n").replace(",800,", ",800,x", 1).encode(),
        "column 17 has a value but no name in the header",
        3,
    ),
    # the right report, the wrong kind
    "gitleaks-given-a-baseline": Bad(
        "gitleaks", DETECT_SECRETS.encode(), "use 'workbench import detect-secrets'", 1
    ),
    "baseline-given-gitleaks": Bad(
        "detect-secrets", GITLEAKS.encode(), "use 'workbench import gitleaks'", 1
    ),
}

ALL_CASES: dict[str, Bad] = {**INVENTORY_CASES, **REPORT_CASES}
"""Every case: one defect each."""

VALID_VARIANTS: dict[str, tuple[str, bytes]] = {
    # json.dump (detect-secrets is Python) writes U+1F600 in a file name as "\ud83d\ude00"
    "baseline-emoji-file": (
        "detect-secrets",
        DETECT_SECRETS.replace(
            "mobile-bff/src/config.ts", "mobile-bff/src/\\ud83d\\ude00.ts"
        ).encode(),
    ),
    "inventory-json-emoji": (
        "inventory",
        json.dumps(
            {
                "version": 1,
                "services": [
                    {
                        "id": "web",
                        "owner": "team \U0001f600",
                        "environment": "prod",
                        "exposure": "internal",
                    }
                ],
            }
        ).encode(),
    ),
    "inventory-bom-crlf": ("inventory", b"\xef\xbb\xbf" + MINI.replace("\n", "\r\n").encode()),
    # Windows PowerShell's `>` writes UTF-16 with a byte-order mark
    "inventory-utf16": ("inventory", MINI.replace("\n", "\r\n").encode("utf-16")),
    "trufflehog-utf16": ("trufflehog", TRUFFLEHOG.encode("utf-16")),
    "inventory-as-json": ("inventory", json.dumps({"version": 1, "apis": []}).encode()),
    "gitleaks-no-findings": ("gitleaks", b"[]\n"),
    "gitleaks-8.0-no-findings": ("gitleaks", b""),  # 8.0-8.4 write a zero-byte report
    "gitleaks-nil-findings": ("gitleaks", b"null\n"),  # json.Encode of a nil list
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
    "csv-excel-empty-columns": ("csv", CSV.replace("\n", ",,\n").encode()),
    "csv-quoted-cell": (
        "csv",
        _csv("repo:checkout/config/prod.env", '"repo:checkout/config/prod.env"'),
    ),
}
"""Real variants the tools write: accepted, so the table above is not just 'refuse all'."""
