"""A verdict as a plain document: what `--json` prints and what the workspace stores."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from workbench.jsonable import to_jsonable
from workbench.verify.engine import LivenessResult, VerifyResult
from workbench.verify.probe import ProbeEvidence

__all__ = ["NOT_CONFIRMED", "evidence_document", "liveness_document", "verdict_document"]

NOT_CONFIRMED = (
    "the old key value was not confirmed as live: no before-observation of it exists, so "
    "this run shows it is refused now, not that it was ever the value the gateway accepted"
)


def evidence_document(ev: ProbeEvidence) -> dict[str, Any]:
    evidence = asdict(ev)
    evidence.pop("body", None)  # may echo what was sent; only its hash and length are kept
    return to_jsonable(evidence)


def verdict_document(result: VerifyResult) -> dict[str, Any]:
    """``{"url", "verdict", "scope", "run", "liveness", "probes": [{"name", "expected",
    "observed", "outcome", "evidence"}], "reasons", "started", "finished"}``; no secret
    (fingerprints only). ``liveness`` says the old value was not confirmed live; a caller
    that holds a before-observation replaces it."""
    v = result.verdict
    probes = [
        {
            "name": p.name,
            "expected": p.expected,
            "observed": p.observed,
            "outcome": p.outcome,
            "evidence": evidence_document(p.evidence),
        }
        for p in v.probes
    ]
    return {
        "url": result.target.url,
        "target": result.target.name or None,
        "verdict": v.verdict,
        "scope": result.scope,
        "run": (
            {"token": result.run.token, "user_agent": result.run.user_agent} if result.run else None
        ),
        "liveness": {"confirmed": False, "how": NOT_CONFIRMED},
        "probes": probes,
        "reasons": list(v.reasons),
        "started": v.started.isoformat(),
        "finished": v.finished.isoformat(),
    }


def liveness_document(result: LivenessResult, fingerprint: str) -> dict[str, Any]:
    """The before-observation as stored with the cut-over's verdict."""
    return {
        "state": result.state,
        "confirmed": result.state == "LIVE",
        "old_key_fingerprint": fingerprint,
        "reasons": list(result.reasons),
        "probes": [evidence_document(ev) for ev in result.evidence],
        "run": {"token": result.run.token, "user_agent": result.run.user_agent},
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
    }
