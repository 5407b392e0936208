"""Exhaustive unit tests of the verdict (req. 14, 15) against an independent oracle."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from workbench.verify.classify import Outcome
from workbench.verify.probe import ProbeEvidence
from workbench.verify.verdict import decide

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ALL = list(Outcome)
UNREACH = {
    Outcome.CONN_REFUSED,
    Outcome.TIMEOUT,
    Outcome.DNS,
    Outcome.PLAIN_HTTP,
    Outcome.SERVER_CERT_UNTRUSTED,
}


def ev(name: str, outcome: Outcome, **kw) -> ProbeEvidence:
    base = dict(
        name=name,
        url="https://api.acme.test:8443/health",
        ip="127.0.0.1",
        port=8443,
        sni="api.acme.test",
        host_header="api.acme.test:8443",
        identity="x",
        outcome=outcome,
    )
    base.update(kw)
    return ProbeEvidence(**base)


def run(control: Outcome, old: Outcome, none: Outcome, *extra: tuple[str, Outcome]):
    obs = [
        ("accepted", ev("positive-control", control)),
        ("refused", ev("old-key-only", old)),
        ("refused", ev("no-credentials", none)),
    ] + [("refused", ev(name, o)) for name, o in extra]
    return decide(obs, started=T0, finished=T0)


def oracle(outcomes_expected: list[tuple[str, Outcome]]) -> str:
    """Written from the requirement text, independently of verdict.py."""
    bad = any(
        (exp == "accepted" and o is Outcome.REFUSED) or (exp == "refused" and o is Outcome.ACCEPTED)
        for exp, o in outcomes_expected
    )
    if bad:
        return "FAIL"
    good = all(
        (exp == "accepted" and o is Outcome.ACCEPTED) or (exp == "refused" and o is Outcome.REFUSED)
        for exp, o in outcomes_expected
    )
    if good:
        return "PASS"
    undecided = [o for _, o in outcomes_expected if o not in (Outcome.ACCEPTED, Outcome.REFUSED)]
    return "ERROR" if any(o in UNREACH for o in undecided) else "INCONCLUSIVE"


def test_every_combination_of_the_three_required_probes():
    passes = 0
    for c, o, n in itertools.product(ALL, repeat=3):
        v = run(c, o, n)
        want = oracle([("accepted", c), ("refused", o), ("refused", n)])
        assert v.verdict == want, (c, o, n, v.reasons)
        assert v.reasons
        passes += v.verdict == "PASS"
        assert [p.name for p in v.probes] == ["positive-control", "old-key-only", "no-credentials"]
    assert passes == 1  # exactly one combination out of 15**3 is a PASS


@pytest.mark.parametrize("extra", ALL)
def test_optional_negative_probes_must_be_refused_too(extra):
    v = run(Outcome.ACCEPTED, Outcome.REFUSED, Outcome.REFUSED, ("foreign-ca-cert", extra))
    want = oracle(
        [
            ("accepted", Outcome.ACCEPTED),
            ("refused", Outcome.REFUSED),
            ("refused", Outcome.REFUSED),
            ("refused", extra),
        ]
    )
    assert v.verdict == want
    assert v.probes[-1].outcome == {"PASS": "pass", "FAIL": "fail"}.get(want, "inconclusive")


def test_probe_outcomes_and_expectations_are_recorded():
    v = run(Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.TIMEOUT)
    assert v.verdict == "FAIL"
    assert [(p.expected, p.outcome) for p in v.probes] == [
        ("accepted", "pass"),
        ("refused", "fail"),
        ("refused", "inconclusive"),
    ]
    assert any("old-key-only" in r and "accepted" in r for r in v.reasons)


def test_waf_403_everywhere_is_never_pass():
    obs = [
        (
            "accepted",
            ev("positive-control", Outcome.REFUSED, http_status=403, content_type="text/html"),
        ),
        ("refused", ev("old-key-only", Outcome.REFUSED, http_status=403, content_type="text/html")),
        (
            "refused",
            ev("no-credentials", Outcome.REFUSED, http_status=403, content_type="text/html"),
        ),
    ]
    v = decide(obs, started=T0, finished=T0)
    assert v.verdict == "FAIL"
    assert "WAF" in v.reasons[0]


def test_old_key_200_of_another_media_type_is_a_login_page_not_acceptance():
    def obs(old_ct):
        return [
            (
                "accepted",
                ev(
                    "positive-control",
                    Outcome.ACCEPTED,
                    http_status=200,
                    content_type="application/json",
                ),
            ),
            (
                "refused",
                ev(
                    "old-key-only",
                    Outcome.ACCEPTED,
                    http_status=200,
                    content_type=old_ct,
                    body=b"<p>hi</p>",
                ),
            ),
            ("refused", ev("no-credentials", Outcome.REFUSED, http_status=401)),
        ]

    v = decide(obs("text/html"), started=T0, finished=T0)
    assert v.verdict == "INCONCLUSIVE"
    assert v.probes[1].evidence.outcome is Outcome.LOGIN_PAGE
    # Same media type as the control: that is the API answering the old key.
    assert decide(obs("application/json"), started=T0, finished=T0).verdict == "FAIL"


def test_control_login_page_is_not_a_pass():
    obs = [
        (
            "accepted",
            ev(
                "positive-control",
                Outcome.ACCEPTED,
                http_status=200,
                content_type="text/html",
                body=b'<input type="password">',
            ),
        ),
        ("refused", ev("old-key-only", Outcome.REFUSED, http_status=401)),
        ("refused", ev("no-credentials", Outcome.REFUSED, http_status=401)),
    ]
    v = decide(obs, started=T0, finished=T0)
    assert v.verdict == "INCONCLUSIVE"


def test_probes_against_different_pins_are_an_error():
    obs = [
        ("accepted", ev("positive-control", Outcome.ACCEPTED)),
        ("refused", ev("old-key-only", Outcome.REFUSED, ip="10.0.0.9")),
        ("refused", ev("no-credentials", Outcome.REFUSED)),
    ]
    v = decide(obs, started=T0, finished=T0)
    assert v.verdict == "ERROR" and "pinned" in v.reasons[0]


def test_missing_required_probe_is_an_error():
    obs = [
        ("accepted", ev("positive-control", Outcome.ACCEPTED)),
        ("refused", ev("no-credentials", Outcome.REFUSED)),
    ]
    assert decide(obs, started=T0, finished=T0).verdict == "ERROR"


def test_wrong_expectation_on_a_required_probe_is_an_error():
    obs = [
        ("accepted", ev("positive-control", Outcome.ACCEPTED)),
        ("accepted", ev("old-key-only", Outcome.ACCEPTED)),
        ("refused", ev("no-credentials", Outcome.REFUSED)),
    ]
    assert decide(obs, started=T0, finished=T0).verdict == "ERROR"


def test_duplicate_probe_names_are_an_error():
    obs = [
        ("accepted", ev("positive-control", Outcome.ACCEPTED)),
        ("refused", ev("old-key-only", Outcome.REFUSED)),
        ("refused", ev("no-credentials", Outcome.REFUSED)),
        ("refused", ev("no-credentials", Outcome.REFUSED)),
    ]
    assert decide(obs, started=T0, finished=T0).verdict == "ERROR"


def test_pass_verdict_is_the_only_passed():
    assert run(Outcome.ACCEPTED, Outcome.REFUSED, Outcome.REFUSED).passed
    assert not run(Outcome.ACCEPTED, Outcome.REFUSED, Outcome.EOF_AMBIGUOUS).passed
