"""A verdict as a plain document: what `--json` prints and what the workspace stores."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from workbench.verify.engine import VerifyResult


def _plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        obj = asdict(obj)
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_plain(v) for v in obj]
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    return obj


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
                "evidence": _plain(evidence),
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
