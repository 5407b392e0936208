"""A verdict as a plain document: what `--json` prints and what the workspace stores."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from workbench.jsonable import to_jsonable
from workbench.verify.engine import VerifyResult


def verdict_document(result: VerifyResult) -> dict[str, Any]:
    """``{"url", "verdict", "probes": [{"name", "expected", "observed", "outcome",
    "evidence"}], "reasons", "started", "finished"}``; no secret (fingerprints only)."""
    v = result.verdict
    probes = []
    for p in v.probes:
        evidence = asdict(p.evidence)
        evidence.pop("body", None)  # may echo what was sent; only its hash and length are kept
        probes.append(
            {
                "name": p.name,
                "expected": p.expected,
                "observed": p.observed,
                "outcome": p.outcome,
                "evidence": to_jsonable(evidence),
            }
        )
    return {
        "url": result.target.url,
        "target": result.target.name or None,
        "verdict": v.verdict,
        "probes": probes,
        "reasons": list(v.reasons),
        "started": v.started.isoformat(),
        "finished": v.finished.isoformat(),
    }
