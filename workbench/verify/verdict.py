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

from workbench import states
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
    "decide_liveness",
    "describe_observation",
    "judge_corner",
]

CONTROL = "positive-control"
LIVE_DECOY = "wrong-value-live"
"""The before-probe's wrong value (engine.confirm_live); must be refused for LIVE."""
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

    verdict: states.Verdict
    """``PASS``, ``FAIL``, ``INCONCLUSIVE`` or ``ERROR``."""
    probes: tuple[ProbeRecord, ...]
    """Every probe, in run order."""
    reasons: tuple[str, ...]
    """Human sentences explaining the verdict."""
    started: datetime
    """When the run started."""
    finished: datetime
    """When the run finished."""
    scope: str = ""
    """What the run covered (consumers, entry points x addresses, key forms, paths x methods,
    repeats), in words."""

    @property
    def passed(self) -> bool:
        """True only for PASS: the one case that may exit 0 or let a key be revoked."""
        return self.verdict == states.Verdict.PASS


BODY_OF_CONTROL = "the refusal carries the positive control's body"


def describe_observation(ev: ProbeEvidence) -> str:
    """Short human text for what a probe saw."""
    if ev.http_status is not None:
        text = f"HTTP {ev.http_status}"
        if ev.error_reason == BODY_OF_CONTROL:
            text += f" ({BODY_OF_CONTROL})"
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


# A corner's answer that says "not served here": no route, no such method, no such version,
# a misdirected request. Nothing was accepted; the main matrix holds the proof.
_NOT_SERVED_STATUS = frozenset({400, 404, 405, 406, 410, 411, 413, 414, 415, 421, 426, 431,
                                501, 505})  # fmt: skip
_NO_ANSWER = frozenset({Outcome.TIMEOUT, Outcome.CONN_REFUSED, Outcome.DNS})
HOST_CORNER = "Host "
"""Label prefix of the Host-header corners (verify.corners)."""


def judge_corner(ev: ProbeEvidence) -> str:
    """``pass``, ``fail`` or ``inconclusive`` for a corner probe (see verify.corners): a 2xx
    fails, a refusal or a "not served here" passes, a handshake that failed before anything
    was sent passes (nothing could be accepted), the rest proves nothing."""
    if ev.outcome is Outcome.ACCEPTED:
        return "fail"
    if ev.outcome in (Outcome.REFUSED, Outcome.NOT_SERVED, Outcome.NOT_FOUND, Outcome.REDIRECT):
        return "pass"
    if ev.outcome is Outcome.LOGIN_PAGE and (ev.corner or "").startswith(HOST_CORNER):
        return "pass"  # another Host got another site (another media type), not the API
    if ev.http_status in _NOT_SERVED_STATUS:
        return "pass"
    if ev.http_status is None and not ev.request_sent and ev.outcome not in _NO_ANSWER:
        return "pass"
    return "inconclusive"


def _judge(expected: str, outcome: Outcome) -> str:
    if outcome not in DECISIVE:
        return "inconclusive"
    want = Outcome.ACCEPTED if expected == ACCEPTED else Outcome.REFUSED
    return "pass" if outcome is want else "fail"


def _pin(ev: ProbeEvidence) -> tuple:
    return (ev.ip, ev.port, ev.sni, ev.host_header)


def _probe_key(ev: ProbeEvidence) -> tuple:
    return (ev.name, ev.form, ev.method, ev.url, ev.identity, ev.attempt, ev.corner, _pin(ev))


def _where(ev: ProbeEvidence) -> str:
    return f"{ev.ip or '?'}:{ev.port}"


def _grouped_reasons(records: list[ProbeRecord], sentence) -> list[str]:
    """One line per (probe, form, method, URL, address), with the count of attempts."""
    groups: dict[tuple, list[ProbeRecord]] = {}
    for r in records:
        ev = r.evidence
        key = (r.name, ev.form, ev.corner, ev.method, ev.url, ev.ip, r.observed)
        groups.setdefault(key, []).append(r)
    lines = []
    for (name, form, corner, method, url, _ip, _observed), rs in groups.items():
        ev = rs[0].evidence
        shape = f" [{form}]" if form else ""
        if corner:
            shape += f" ({corner})"
        times = f" ({len(rs)} attempt(s))" if len(rs) > 1 else ""
        lines.append(f"{name}{shape} {method} {url} at {_where(ev)}: {sentence(rs[0])}{times}")
    if len(lines) > MAX_REASON_LINES:
        rest = len(lines) - MAX_REASON_LINES
        lines = [*lines[:MAX_REASON_LINES], f"... and {rest} more (see the evidence)"]
    return lines


MAX_REASON_LINES = 12


def decide(
    observations: Sequence[tuple[str, ProbeEvidence]],
    *,
    started: datetime,
    finished: datetime,
    scope: str = "",
) -> Verdict:
    """Judge ``(expected, evidence)`` pairs of one run. ``expected`` is accepted/refused.

    Probes are grouped by where they connected (IP, port, SNI, Host): every group needs its
    own passing positive control and its own refusals, so one good replica or address can
    never vouch for another. ``scope`` (what the run covered) ends the PASS line."""
    reasons: list[str] = []
    reference_ct: dict[tuple, str | None] = {}
    control_bodies: dict[tuple, set[str]] = {}
    for _, ev in observations:
        if ev.name == CONTROL and ev.outcome is Outcome.ACCEPTED:
            reference_ct.setdefault(_pin(ev), ev.content_type)
            if ev.body_sha256:
                control_bodies.setdefault(_pin(ev), set()).add(ev.body_sha256)
    records: list[ProbeRecord] = []
    for expected, ev in observations:
        if expected not in (ACCEPTED, REFUSED):
            raise ValueError(f"probe {ev.name}: expected must be accepted or refused")
        ev = _refine(ev, None if ev.name == CONTROL else reference_ct.get(_pin(ev)))
        if (
            expected == REFUSED
            and ev.outcome is Outcome.REFUSED
            and ev.body_sha256 in control_bodies.get(_pin(ev), ())
        ):
            # A refusal status around the very answer the consumer got is not a refusal.
            ev = replace(ev, outcome=Outcome.OTHER, error_reason=BODY_OF_CONTROL)
        if ev.corner is not None and expected == REFUSED:
            judged = judge_corner(ev)
        else:
            judged = _judge(expected, ev.outcome)
        records.append(ProbeRecord(ev.name, expected, describe_observation(ev), judged, ev))

    def result(verdict: states.Verdict) -> Verdict:
        return Verdict(verdict, tuple(records), tuple(reasons), started, finished, scope)

    if not records:
        reasons.append("no probe ran; the run is incomplete")
        return result(states.Verdict.ERROR)
    groups: dict[tuple, list[ProbeRecord]] = {}
    for r in records:
        groups.setdefault(_pin(r.evidence), []).append(r)
    for pin, rs in groups.items():
        names = {r.name for r in rs}
        missing = [name for name in REQUIRED_PROBES if name not in names]
        if missing:
            where = f"{pin[0] or '?'}:{pin[1]} (SNI {pin[2] or 'none'})"
            reasons.append(
                f"probes pinned to {where} lack required probe(s) {', '.join(missing)}: "
                "every address needs its own control and refusals; the run is incomplete"
            )
            return result(states.Verdict.ERROR)
    keys = [_probe_key(r.evidence) for r in records]
    if len(set(keys)) != len(keys):
        reasons.append("the same probe appears twice; the run is malformed")
        return result(states.Verdict.ERROR)
    want = {CONTROL: ACCEPTED, OLD_KEY: REFUSED, NO_CREDENTIALS: REFUSED}
    if any(r.expected != want[r.name] for r in records if r.name in want):
        reasons.append("the control must expect acceptance and old key/no credentials refusal")
        return result(states.Verdict.ERROR)

    fails = [r for r in records if r.outcome == "fail"]
    open_ = [r for r in records if r.outcome == "inconclusive"]

    def refused_control(r: ProbeRecord) -> str:
        hint = (
            " (a WAF or gateway answering 403 to everyone looks like this)"
            if r.evidence.http_status == 403
            else ""
        )
        return f"the new certificate was refused: {r.observed}{hint}"

    reasons.extend(_grouped_reasons([r for r in fails if r.expected == ACCEPTED], refused_control))
    reasons.extend(
        _grouped_reasons(
            [r for r in fails if r.expected == REFUSED],
            lambda r: f"should be refused but was accepted: {r.observed}",
        )
    )
    if fails:
        return result(states.Verdict.FAIL)
    reasons.extend(
        _grouped_reasons(
            open_,
            lambda r: (
                f"{r.observed} proves nothing about the credential "
                f"(expected {r.expected}); fix the target or retry"
            ),
        )
    )
    if open_:
        unreachable = any(r.evidence.outcome in UNREACHABLE for r in open_)
        return result(states.Verdict.ERROR if unreachable else states.Verdict.INCONCLUSIVE)
    controls = sum(1 for r in records if r.name == CONTROL)
    pins = ", ".join(f"{p[0]}:{p[1]} (SNI {p[2] or 'none'})" for p in list(groups)[:4]) + (
        f" and {len(groups) - 4} more" if len(groups) > 4 else ""
    )
    reasons.append(
        f"{controls} positive control(s) accepted, {len(records) - controls} probe(s) of the "
        f"old key and other credentials refused, against {pins}"
        + (f"; scope: {scope}" if scope else "")
    )
    return result(states.Verdict.PASS)


LIVE = "LIVE"
NOT_LIVE = "NOT_LIVE"
UNKNOWN = "UNKNOWN"


def decide_liveness(
    observations: Sequence[ProbeEvidence],
) -> tuple[str, tuple[str, ...]]:
    """Before a change: was the old key value accepted everywhere it was tried?

    LIVE only when every observation of the old key is a 2xx API answer and every wrong
    value sent beside it (probe ``wrong-value-live``) was clearly refused; NOT_LIVE when the
    old key was clearly refused anywhere (the workbench holds a value the gateway does not
    accept, or the probe does not reach the key check); UNKNOWN otherwise."""
    decoys = [ev for ev in observations if ev.name == LIVE_DECOY]
    observations = [ev for ev in observations if ev.name != LIVE_DECOY]
    if not observations:
        return UNKNOWN, ("no before-probe ran",)
    judged = [(ev, _plain_outcome(ev)) for ev in observations]
    refused = [ev for ev, o in judged if o is Outcome.REFUSED]
    if refused:
        ev = refused[0]
        return NOT_LIVE, (
            f"before the change, the old key was refused at {ev.url} ({_where(ev)}): "
            f"{describe_observation(ev)}; the old key value the workbench holds is not the one "
            "the gateway accepts (or the probe never reaches the key check), so its refusal "
            "afterwards would prove nothing",
        )
    other = [ev for ev, o in judged if o is not Outcome.ACCEPTED]
    if other:
        ev = other[0]
        return UNKNOWN, (
            f"before the change, the old key got {describe_observation(ev)} at {ev.url} "
            f"({_where(ev)}): it could not be confirmed as live",
        )
    lax = [ev for ev in decoys if _plain_outcome(ev) is not Outcome.REFUSED]
    if lax:
        ev = lax[0]
        return UNKNOWN, (
            f"before the change, a wrong value in the same header got "
            f"{describe_observation(ev)} at {ev.url} ({_where(ev)}): the gateway does not "
            "refuse a wrong key, so the old key's acceptance does not show that the value "
            "the workbench holds is the live one",
        )
    ev = observations[0]
    return LIVE, (
        f"before the change, the old key fp={ev.identity.rsplit('=', 1)[-1]} was accepted at "
        f"{len(observations)} address(es) and a wrong value was refused: it is the live value",
    )


def _plain_outcome(ev: ProbeEvidence) -> Outcome:
    if ev.http_status is None:
        return ev.outcome
    return classify_http(ev.http_status, ev.content_type, ev.body)
