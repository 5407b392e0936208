"""The table of malformed inputs the CLI must refuse in one located line (exit 2).

Each case holds exactly one defect, so the product rule can be checked strictly: one line on
stderr that names the file (and the line where one exists). Shared by the in-process table
test and the hypothesis mutation test.
"""

from __future__ import annotations

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
    "utf16-without-bom": Bad(
        "inventory", MINI.encode("utf-16-le"), "a NUL character: not text (UTF-16 without", 1
    ),
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
    # a refused id is one line, not also "'web' is not declared" where it is used
    "referenced-id-trap": Bad("inventory", _inv("- id: web", "- id: on"), "'on' is read as", 10),
    "referenced-id-bidi": Bad("inventory", _inv("- id: web", "- id: w\u202eeb"), "U+202E", 10),
    "referenced-id-null": Bad("inventory", _inv("- id: web", "- id: null"), "missing id", 10),
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
        "inventory",
        _inv("    owner: team-web", "\towner: team-web"),
        "a tab: YAML indents with spaces",
        11,
    ),
    # characters and line endings
    "nul-byte": Bad("inventory", _inv("team-web", "team\x00web"), "a NUL character", 11),
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
