"""Issue 11 point 8: importing grows linearly with the report (no quadratic unions).

One secret seen in N files (found_in unioned) and one secret under N rules (N tags) went
through tuple re-building and list membership tests: x20 time for x10 findings. This runs
the real ``workbench import`` at 2k and 20k findings and bounds the CPU-time growth at x25
for x10 (linear is ~x10; the quadratic code took ~x100 here). Figures: bench/import_scale.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import time

import pytest

from workbench.cli import main


def _report(path, n: int, shape: str) -> None:
    findings = [
        {
            "RuleID": f"rule-{i}" if shape == "many-rules" else "generic-api-key",
            "Secret": "bench-secret-value-0123456789abcdef",
            "File": "src/app.py" if shape == "many-rules" else f"src/file{i}.py",
            "StartLine": 10,
            "Fingerprint": f"src/file{i}.py:generic-api-key:10",
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(findings))


def _cpu(report, out) -> float:
    start = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["import", "gitleaks", str(report), "-o", str(out)]) == 0
    return time.process_time() - start


@pytest.mark.parametrize("shape", ["one-secret", "many-rules"])
def test_import_time_grows_linearly(tmp_path, shape):
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    _report(small, 2_000, shape)
    _report(large, 20_000, shape)
    _cpu(small, tmp_path / "warm.yaml")  # imports and caches warmed
    t_small = min(_cpu(small, tmp_path / "s.yaml") for _ in range(2))
    t_large = _cpu(large, tmp_path / "l.yaml")
    text = (tmp_path / "l.yaml").read_text()
    assert text.count("src/file") == (20_000 if shape == "one-secret" else 0)
    assert text.count("gitleaks:rule-") == (20_000 if shape == "many-rules" else 0)
    assert t_large / t_small < 25, f"{t_small:.3f}s -> {t_large:.3f}s"
