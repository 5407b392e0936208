"""The fail-closed cut-over verifier: probes, outcome classification, verdicts, evidence.

Core only (no UI imports). Entry points: :func:`run_verify` / :func:`verify_target` for one
target, :func:`run_verify_many` / :func:`verify_many` for a wave. A stored verdict document is
read back through :class:`VerdictReading` (the CLI, the TUI, the report and the tickets).

Names are imported lazily: a reader of verdict documents (the TUI, the report) does not pay
for the probe engine (ssl, the probe matrix) it never runs.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Outcome": "workbench.verify.classify",
    "classify_exception": "workbench.verify.classify",
    "classify_http": "workbench.verify.classify",
    "CertIdentity": "workbench.verify.engine",
    "Identities": "workbench.verify.engine",
    "LivenessResult": "workbench.verify.engine",
    "Options": "workbench.verify.engine",
    "RunInfo": "workbench.verify.engine",
    "Target": "workbench.verify.engine",
    "VerifyResult": "workbench.verify.engine",
    "check_target": "workbench.verify.engine",
    "confirm_live": "workbench.verify.engine",
    "entry_points": "workbench.verify.engine",
    "run_confirm_live": "workbench.verify.engine",
    "run_verify": "workbench.verify.engine",
    "run_verify_many": "workbench.verify.engine",
    "verify_many": "workbench.verify.engine",
    "verify_target": "workbench.verify.engine",
    "KeyForm": "workbench.verify.forms",
    "key_forms": "workbench.verify.forms",
    "parse_presented_as": "workbench.verify.forms",
    "PinnedHost": "workbench.verify.probe",
    "ProbeEvidence": "workbench.verify.probe",
    "ProbeSpec": "workbench.verify.probe",
    "client_context": "workbench.verify.probe",
    "liveness_document": "workbench.verify.report",
    "verdict_document": "workbench.verify.report",
    "ConnectTo": "workbench.verify.resolve",
    "parse_connect_to": "workbench.verify.resolve",
    "ProbeRecord": "workbench.verify.verdict",
    "Verdict": "workbench.verify.verdict",
    "decide": "workbench.verify.verdict",
    "ProbeReading": "workbench.verify.reading",
    "VerdictReading": "workbench.verify.reading",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.verify' has no attribute {name!r}")
    return getattr(import_module(module), name)
