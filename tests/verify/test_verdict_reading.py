"""VerdictReading: the one read model of a verdict document (CLI, TUI, review, tickets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from test_verify_verdict import T0, ev  # the same probe evidence as the verdict tests

from workbench.verify.classify import Outcome
from workbench.verify.reading import ProbeReading, VerdictReading
from workbench.verify.report import verdict_document
from workbench.verify.target import RunInfo, Target, VerifyResult
from workbench.verify.verdict import decide


def _document(old: Outcome = Outcome.REFUSED) -> dict:
    observations = [
        ("accepted", ev("positive-control", Outcome.ACCEPTED, http_status=200, elapsed_ms=3.5)),
        (
            "refused",
            ev(
                "old-key-only",
                old,
                http_status=200 if old is Outcome.ACCEPTED else 401,
                form="header",
                tls_version="TLSv1.3",
            ),
        ),  # fmt: skip
        ("refused", ev("no-credentials", Outcome.REFUSED, tls_alert="CERTIFICATE_REQUIRED")),
    ]
    verdict = decide(observations, started=T0, finished=T0 + timedelta(seconds=2))
    result = VerifyResult(
        Target("https://api.acme.test:8443/health", name="pay-key"),
        verdict,
        RunInfo("tok123", "workbench-verify/1 tok123"),
        scope={"text": "1 entry point", "entry_points": ["https://api.acme.test:8443/health"]},
    )
    # what the workspace stores and gives back: the document through JSON
    return json.loads(json.dumps(verdict_document(result)))


def test_a_verifier_document_reads_back_field_by_field():
    doc = _document()
    r = VerdictReading.from_document(doc)
    assert (r.verdict, r.url, r.step, r.passed) == ("PASS", doc["url"], "pay-key", True)
    assert (r.started, r.finished) == (doc["started"], doc["finished"])
    assert r.reasons == tuple(doc["reasons"]) and len(r.reasons) == 1
    assert r.scope["text"] == "1 entry point" and r.run["token"] == "tok123"
    assert r.liveness["confirmed"] is False and dict(r.before) == {}
    assert [p.name for p in r.probes] == ["positive-control", "old-key-only", "no-credentials"]
    control, old, none = r.probes
    assert (control.expected, control.outcome, control.observed) == ("accepted", "pass", "HTTP 200")
    assert (control.ip, control.sni, control.elapsed_ms) == ("127.0.0.1", "api.acme.test", 3.5)
    assert (old.answer, old.tls_version, old.identity) == (401, "TLSv1.3", "x")
    assert none.answer == "CERTIFICATE_REQUIRED" and none.tls_version is None
    assert r.document == doc  # the whole document, for the outputs that print it


def test_a_fail_reads_as_not_passed():
    r = VerdictReading.from_document(_document(old=Outcome.ACCEPTED))
    assert r.verdict == "FAIL" and not r.passed
    assert [p.outcome for p in r.probes] == ["pass", "fail", "pass"]


def test_the_reading_is_frozen_and_read_only():
    r = VerdictReading.from_document(_document())
    with pytest.raises(AttributeError):
        r.verdict = "PASS"  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.document["verdict"] = "PASS"  # type: ignore[index]
    with pytest.raises(TypeError):
        r.probes[0].evidence["ip"] = "10.0.0.1"  # type: ignore[index]


@pytest.mark.parametrize(
    "doc",
    [None, [], "PASS", {}, {"probes": "x"}, {"probes": [1, None, "p"]}, {"reasons": "no"}],
)
def test_odd_documents_give_empty_fields_not_exceptions(doc):
    r = VerdictReading.from_document(doc)
    assert (r.verdict, r.url, r.started, r.probes, r.reasons) == ("?", "?", "?", (), ())
    assert dict(r.scope) == {} and dict(r.liveness) == {}


def test_a_probe_without_fields_keeps_the_place_holders():
    r = VerdictReading.from_document({"verdict": "ERROR", "probes": [{"evidence": {"name": "n"}}]})
    [p] = r.probes
    assert (p.name, p.expected, p.observed, p.outcome, p.answer) == ("n", "?", "", "?", "-")
    assert ProbeReading.from_document("not a probe") is None


def test_a_workspace_row_adds_what_the_database_knows():
    class Row:  # the shape of workbench.workspace.records.Verdict
        id = 7
        step_key = "pay-key"
        verdict = "PASS"
        old_key_fingerprint = "0123456789ab"
        recorded_at = datetime(2026, 1, 2, tzinfo=UTC)
        evidence = _document()

    r = VerdictReading.from_row(Row)
    assert (r.id, r.step, r.old_key_fingerprint) == (7, "pay-key", "0123456789ab")
    assert r.recorded_at == Row.recorded_at and r.verdict == "PASS"


def test_tickets_read_the_same_verdict_through_the_model():
    """The ticket's VerdictRecord built from the reading equals the one built from the raw
    document: one read model, outputs unchanged."""
    from workbench.playbook import VerdictRecord

    doc = _document(old=Outcome.ACCEPTED)
    assert VerdictRecord.from_mapping(VerdictReading.from_document(doc)) == (
        VerdictRecord.from_mapping(doc)
    )
