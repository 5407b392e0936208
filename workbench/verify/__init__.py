"""The fail-closed cut-over verifier: probes, outcome classification, verdicts, evidence.

Core only (no UI imports). Entry points: :func:`run_verify` / :func:`verify_target` for one
target, :func:`run_verify_many` / :func:`verify_many` for a wave.
"""

from __future__ import annotations

from workbench.verify.classify import Outcome, classify_exception, classify_http
from workbench.verify.engine import (
    CertIdentity,
    Identities,
    LivenessResult,
    Options,
    RunInfo,
    Target,
    VerifyResult,
    check_target,
    confirm_live,
    entry_points,
    run_confirm_live,
    run_verify,
    run_verify_many,
    verify_many,
    verify_target,
)
from workbench.verify.forms import KeyForm, key_forms, parse_presented_as
from workbench.verify.probe import PinnedHost, ProbeEvidence, ProbeSpec, client_context
from workbench.verify.report import liveness_document, verdict_document
from workbench.verify.resolve import ConnectTo, parse_connect_to
from workbench.verify.verdict import ProbeRecord, Verdict, decide

__all__ = [
    "CertIdentity",
    "ConnectTo",
    "Identities",
    "KeyForm",
    "LivenessResult",
    "Options",
    "RunInfo",
    "confirm_live",
    "entry_points",
    "key_forms",
    "liveness_document",
    "parse_connect_to",
    "parse_presented_as",
    "run_confirm_live",
    "Outcome",
    "PinnedHost",
    "ProbeEvidence",
    "ProbeRecord",
    "ProbeSpec",
    "Target",
    "Verdict",
    "VerifyResult",
    "check_target",
    "classify_exception",
    "classify_http",
    "client_context",
    "decide",
    "run_verify",
    "verdict_document",
    "run_verify_many",
    "verify_many",
    "verify_target",
]
