"""Judge one run's probes: PASS, FAIL, INCONCLUSIVE or ERROR (requirements 14, 15). Pure.

- PASS: every required probe ran against the same pinned host/IP/SNI, the positive control
  got a 2xx API answer (not a login page or redirect), and every probe expected to be refused
  was clearly refused (401/403, nginx 400/495/496 cert page, or a refusal TLS alert).
- FAIL: a decisive wrong answer: a credential that should be refused was accepted (old key,
  no credentials, foreign/revoked/other-service cert), or the new cert was clearly refused.
  A WAF answering 403 to everything lands here (positive control refused), never in PASS.
- ERROR: no trustworthy HTTPS exchange for some probe (DNS, connection refused, timeout,
  plain HTTP on the TLS port, untrusted server cert) or the run itself is malformed.
- INCONCLUSIVE: the server answered but the answer proves nothing (5xx, 429, 404, redirect,
  login page, close without alert, reset, anything else). Connection errors never count as
  rejection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from workbench.verify.classify import DECISIVE, UNREACHABLE, Outcome, classify_http
from workbench.verify.probe import ProbeEvidence

__all__ = [
    "CONTROL",
    "NO_CREDENTIALS",
    "OLD_KEY",
    "REQUIRED_PROBES",
    "ProbeRecord",
    "Verdict",
    "decide",
    "describe_observation",
]

CONTROL = "positive-control"
OLD_KEY = "old-key-only"
NO_CREDENTIALS = "no-credentials"
REQUIRED_PROBES = (CONTROL, OLD_KEY, NO_CREDENTIALS)

ACCEPTED = "accepted"
REFUSED = "refused"


@dataclass(frozen=True)
class ProbeRecord:
    """One probe as judged."""

    name: str
    """Probe name."""
    expected: str
    """``accepted`` or ``refused``."""
    observed: str
    """Human summary, e.g. ``HTTP 401``, ``TLS alert TLSV13_ALERT_CERTIFICATE_REQUIRED``."""
    outcome: str
    """``pass``, ``fail`` or ``inconclusive``."""
    evidence: ProbeEvidence
    """The raw observation (no secrets)."""


@dataclass(frozen=True)
class Verdict:
    """The verdict of one run against one target."""

    verdict: str
    """``PASS``, ``FAIL``, ``INCONCLUSIVE`` or ``ERROR``."""
    probes: tuple[ProbeRecord, ...]
    """Every probe, in run order."""
    reasons: tuple[str, ...]
    """Human sentences explaining the verdict."""
    started: datetime
    """When the run started."""
    finished: datetime
    """When the run finished."""

    @property
    def passed(self) -> bool:
        """True only for PASS: the one case that may exit 0 or let a key be revoked."""
        return self.verdict == "PASS"


def describe_observation(ev: ProbeEvidence) -> str:
    """Short human text for what a probe saw."""
    if ev.http_status is not None:
        text = f"HTTP {ev.http_status}"
        if ev.outcome is Outcome.LOGIN_PAGE:
            text += " login page"
        elif ev.outcome is Outcome.REDIRECT and ev.location:
            text += f" -> {ev.location[:60]}"
        return text
    if ev.tls_alert and ev.outcome is Outcome.REFUSED:
        return f"TLS alert {ev.tls_alert}"
    return f"{ev.outcome.value} ({ev.error_reason or ev.error_class or 'no detail'})"


def _refine(ev: ProbeEvidence, reference_content_type: str | None) -> ProbeEvidence:
    if ev.http_status is None:
        return ev
    outcome = classify_http(
        ev.http_status, ev.content_type, ev.body, reference_content_type=reference_content_type
    )
    return ev if outcome is ev.outcome else replace(ev, outcome=outcome)


def _judge(expected: str, outcome: Outcome) -> str:
    if outcome not in DECISIVE:
        return "inconclusive"
    want = Outcome.ACCEPTED if expected == ACCEPTED else Outcome.REFUSED
    return "pass" if outcome is want else "fail"


def decide(
    observations: Sequence[tuple[str, ProbeEvidence]],
    *,
    started: datetime,
    finished: datetime,
) -> Verdict:
    """Judge ``(expected, evidence)`` pairs of one run. ``expected`` is accepted/refused."""
    reasons: list[str] = []
    by_name = {ev.name: ev for _, ev in observations}
    control = by_name.get(CONTROL)
    reference_ct = control.content_type if control and control.outcome is Outcome.ACCEPTED else None
    records: list[ProbeRecord] = []
    for expected, ev in observations:
        if expected not in (ACCEPTED, REFUSED):
            raise ValueError(f"probe {ev.name}: expected must be accepted or refused")
        ev = _refine(ev, None if ev.name == CONTROL else reference_ct)
        judged = _judge(expected, ev.outcome)
        records.append(ProbeRecord(ev.name, expected, describe_observation(ev), judged, ev))

    def result(verdict: str) -> Verdict:
        return Verdict(verdict, tuple(records), tuple(reasons), started, finished)

    missing = [name for name in REQUIRED_PROBES if name not in by_name]
    if missing:
        reasons.append(f"required probe(s) missing: {', '.join(missing)}; the run is incomplete")
        return result("ERROR")
    if len(by_name) != len(observations):
        reasons.append("two probes share a name; the run is malformed")
        return result("ERROR")
    pins = {(ev.ip, ev.port, ev.sni, ev.host_header) for _, ev in observations}
    if len(pins) != 1:
        reasons.append("probes did not all use the same pinned host, IP and SNI")
        return result("ERROR")
    expectations = {r.name: r.expected for r in records}
    if (expectations[CONTROL], expectations[OLD_KEY], expectations[NO_CREDENTIALS]) != (
        ACCEPTED,
        REFUSED,
        REFUSED,
    ):
        reasons.append("the control must expect acceptance and old key/no credentials refusal")
        return result("ERROR")

    fails = [r for r in records if r.outcome == "fail"]
    open_ = [r for r in records if r.outcome == "inconclusive"]
    for r in fails:
        if r.expected == ACCEPTED:
            hint = (
                " (a WAF or gateway answering 403 to everyone looks like this)"
                if (r.evidence.http_status == 403)
                else ""
            )
            reasons.append(f"{r.name}: the new certificate was refused: {r.observed}{hint}")
        else:
            reasons.append(f"{r.name}: should be refused but was accepted: {r.observed}")
    if fails:
        return result("FAIL")
    for r in open_:
        reasons.append(
            f"{r.name}: {r.observed} proves nothing about the credential "
            f"(expected {r.expected}); fix the target or retry"
        )
    if open_:
        unreachable = any(r.evidence.outcome in UNREACHABLE for r in open_)
        return result("ERROR" if unreachable else "INCONCLUSIVE")
    reasons.append(
        f"new certificate accepted, old key and {len(records) - 2} other credential(s) refused, "
        f"all against {control.ip}:{control.port} (SNI {control.sni or 'none'})"
    )
    return result("PASS")
