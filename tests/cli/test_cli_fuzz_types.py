"""Type-changing mutations of the sample scanner reports: every field the importers read,
given a value of another JSON type, is refused in one line at that field's line.

The oracle is exact (which line, which field), so this catches silent coercion: before,
``"File": 5`` became the place ``repo:5:12``, ``"Secret": 12345`` was hashed as the text
"12345", ``"Verified": "yes"`` read as false and a 40-digit ``StartLine`` was kept.
Deterministic for CI: ``derandomize=True``, no example database, bounded examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inventory"

TYPED = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# What each importer reads, and of which JSON type.
FIELDS = {
    "gitleaks": {
        "File": "text",
        "StartLine": "count",
        "Secret": "text",
        "RuleID": "text",
        "Commit": "text",
    },
    "detect-secrets": {
        "hashed_secret": "text",
        "line_number": "count",
        "type": "text",
        "is_secret": "flag",
        "is_verified": "flag",
    },
    "trufflehog": {"Raw": "text", "RawV2": "text", "DetectorName": "text", "Verified": "flag"},
    "trufflehog-source": {"file": "text", "line": "count", "commit": "text"},
}

OTHER = {
    "text": st.one_of(
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    "count": st.one_of(
        st.integers(-(10**30), -1),
        st.integers(2**31, 10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
    ),
    "flag": st.one_of(
        st.integers(),
        st.text(max_size=5),
        st.lists(st.booleans(), max_size=2),
        st.dictionaries(st.text(max_size=2), st.booleans(), max_size=1),
    ),
}


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def _refused_at(kind: str, text: str, line: int, field: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report"
        path.write_text(text)
        out = Path(tmp) / "out.yaml"
        code, err = _run(["import", kind, str(path), "-o", str(out)])
        assert code == 2, err
        (msg,) = err.splitlines()
        assert msg.startswith(f"{path}:{line}:"), (msg, line)
        assert f" {field} must be " in msg, msg
        assert not out.exists()


@st.composite
def _gitleaks(draw) -> tuple[str, int, str]:
    findings = json.loads((FIXTURES / "gitleaks.json").read_text())
    n = draw(st.integers(0, len(findings) - 1))
    field = draw(st.sampled_from(sorted(FIELDS["gitleaks"])))
    findings[n][field] = draw(OTHER[FIELDS["gitleaks"][field]])
    text = json.dumps(findings, indent=1)
    # one key per line: the field's line is the n-th occurrence of its key
    lines = text.split("\n")
    hits = [i for i, s in enumerate(lines, 1) if s.startswith(f'  "{field}": ')]
    return text, hits[n], field


@st.composite
def _baseline(draw) -> tuple[str, int, str]:
    doc = json.loads((FIXTURES / "detect-secrets.baseline").read_text())
    field = draw(st.sampled_from(sorted(FIELDS["detect-secrets"])))
    doc["results"]["checkout/config/prod.env"][0][field] = draw(
        OTHER[FIELDS["detect-secrets"][field]]
    )
    text = json.dumps(doc, indent=1)
    (line,) = [
        i for i, s in enumerate(text.split("\n"), 1) if s.strip().startswith(f'"{field}": ')
    ][:1]
    return text, line, field


@st.composite
def _trufflehog(draw) -> tuple[str, int, str]:
    rows = (FIXTURES / "trufflehog.jsonl").read_text().splitlines()
    n = draw(st.integers(0, len(rows) - 1))
    finding = json.loads(rows[n])
    if draw(st.booleans()):
        field = draw(st.sampled_from(sorted(FIELDS["trufflehog"])))
        finding[field] = draw(OTHER[FIELDS["trufflehog"][field]])
    else:
        field = draw(st.sampled_from(sorted(FIELDS["trufflehog-source"])))
        (source,) = finding["SourceMetadata"]["Data"].values()
        source[field] = draw(OTHER[FIELDS["trufflehog-source"][field]])
    rows[n] = json.dumps(finding)
    return "\n".join(rows) + "\n", n + 1, field


@pytest.mark.parametrize("kind", ["gitleaks", "detect-secrets", "trufflehog"])
def test_a_field_of_another_type_is_refused_at_its_line(kind):
    strategy = {"gitleaks": _gitleaks, "detect-secrets": _baseline, "trufflehog": _trufflehog}[kind]

    @TYPED
    @given(strategy())
    def run(case: tuple[str, int, str]) -> None:
        _refused_at(kind, *case)

    run()
