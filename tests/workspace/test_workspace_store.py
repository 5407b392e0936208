"""Workspace state: creation, plan, step state machine (req. 13), certificate slots (req. 26)."""

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from workbench.errors import UnknownIdError, UnsafePathError, WorkspaceError
from workbench.workspace import CertificateRecord, Workspace, verify_audit

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PLAN = {
    "waves": [
        {"number": 1, "steps": [{"key": "k-pay", "api": "payments-api", "consumers": ["web"]}]},
        {
            "number": 2,
            "steps": [
                {"key": "k-ledger", "api": "ledger-api", "consumers": [{"id": "worker"}, "web"]},
                {"key": "k-fp", "api": "x", "consumers": [], "fingerprint": "0123456789ab"},
            ],
        },
    ],
    "score": 1.5,
}


class Clock:
    def __init__(self):
        self.t = T0

    def __call__(self):
        self.t += timedelta(seconds=1)
        return self.t


@pytest.fixture
def inventory(tmp_path):
    p = tmp_path / "inventory.yaml"
    p.write_text("version: 1\n")
    return p


@pytest.fixture
def ws(tmp_path, inventory):
    w = Workspace.create(
        tmp_path / "ws",
        inventory_path=inventory,
        trust_domain="acme.test",
        clock=Clock(),
        actor="tester@host",
    )
    yield w
    w.close()


def _cert(serial, *, step="k-pay", service="web", kind="client", sha="a"):
    return CertificateRecord(
        serial=serial,
        service=service,
        kind=kind,
        step_key=step,
        not_before=T0,
        not_after=T0 + timedelta(days=30),
        sha256=sha * 64,
        x5t_s256="A" * 43,
        spiffe_id=f"spiffe://acme.test/{service}",
    )


def test_create_then_open(tmp_path, inventory):
    old = os.umask(0)
    try:
        w = Workspace.create(
            tmp_path / "ws", inventory_path=inventory, trust_domain="acme.test", now=T0
        )
    finally:
        os.umask(old)
    info = w.info()
    w.close()
    assert info.trust_domain == "acme.test" and info.created_at == T0
    assert len(info.inventory_sha256) == 64
    d = tmp_path / "ws"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for p in d.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    with Workspace.open(d) as again:
        assert again.info() == info
        assert [r.action for r in again.audit_records()] == ["workspace.create"]
    with pytest.raises(WorkspaceError, match="already exists"):
        Workspace.create(d, inventory_path=inventory, trust_domain="acme.test")


def test_open_without_workspace_says_how_to_fix(tmp_path):
    with pytest.raises(WorkspaceError, match=r"no workspace at .*run `workbench init INVENTORY`"):
        Workspace.open(tmp_path / "nothing")


def test_create_with_missing_inventory_leaves_nothing(tmp_path):
    with pytest.raises(WorkspaceError, match="cannot read inventory"):
        Workspace.create(tmp_path / "ws", inventory_path=tmp_path / "nope.yaml", trust_domain="t")
    assert not (tmp_path / "ws" / "state.db").exists()


def test_plan_creates_steps_and_keeps_state_on_replan(ws):
    change = ws.set_plan(PLAN)
    assert change.added == ("k-pay", "k-ledger", "k-fp")
    assert ws.plan() == PLAN
    ledger = ws.step("k-ledger")
    assert (ledger.wave, ledger.api, ledger.consumers) == (2, "ledger-api", ("worker", "web"))
    ws.set_step_state("k-pay", "issued")
    smaller = {"waves": [{"number": 1, "steps": [{"key": "k-ledger", "consumers": []}]}]}
    change = ws.set_plan(smaller)
    assert change.kept == ("k-ledger",)
    assert change.removed == ("k-fp",)  # never started: dropped
    assert change.orphaned == ("k-pay",)  # started: kept, flagged
    assert ws.step("k-pay").state == "issued" and not ws.step("k-pay").in_plan
    assert [s.key for s in ws.steps()] == ["k-ledger", "k-pay"]


@pytest.mark.parametrize("bad", ["../x", "K-PAY", "k\u202ex"])
def test_plan_refuses_unsafe_step_keys(ws, bad):
    with pytest.raises(UnsafePathError):
        ws.set_plan({"waves": [{"steps": [{"key": bad}]}]})
    assert ws.steps() == []


def test_state_machine_refuses_illegal_transitions(ws):
    ws.set_plan(PLAN)
    with pytest.raises(WorkspaceError, match="cannot go from planned to cut_over"):
        ws.set_step_state("k-pay", "cut_over")
    with pytest.raises(WorkspaceError, match="unknown step state"):
        ws.set_step_state("k-pay", "done")
    with pytest.raises(UnknownIdError, match="unknown step 'k-pya'; nearest: k-pay"):
        ws.set_step_state("k-pya", "issued")
    for s in ("issued", "dual", "cut_over"):
        ws.set_step_state("k-pay", s, reason=f"to {s}")
    n = len(ws.audit_records())
    assert ws.set_step_state("k-pay", "cut_over").state == "cut_over"  # idempotent no-op
    assert len(ws.audit_records()) == n
    ws.set_step_state("k-pay", "failed", reason="probe error")
    ws.set_step_state("k-pay", "planned", reason="retry")
    assert ws.step("k-pay").state == "planned"


def test_verified_requires_a_pass_verdict_newer_than_the_cut_over(ws):
    ws.set_plan(PLAN)
    for s in ("issued", "dual"):
        ws.set_step_state("k-pay", s)
    # a PASS recorded before the cut-over does not count
    early = ws.clock()
    ws.record_verdict(
        "k-pay",
        "PASS",
        started_at=early,
        finished_at=early,
        old_key_fingerprint="0123456789ab",
        evidence={"probes": []},
    )
    ws.set_step_state("k-pay", "cut_over")
    cut = ws.step("k-pay").cut_over_at
    with pytest.raises(WorkspaceError, match="needs a PASS started after its last cut-over"):
        ws.set_step_state("k-pay", "verified")
    t = ws.clock()
    ws.record_verdict(
        "k-pay",
        "FAIL",
        started_at=t,
        finished_at=t,
        old_key_fingerprint="0123456789ab",
        evidence={"old_key": "accepted"},
    )
    with pytest.raises(WorkspaceError, match="latest verdict is FAIL"):
        ws.set_step_state("k-pay", "verified")
    assert ws.step("k-pay").state == "cut_over"
    t = ws.clock()
    v = ws.record_verdict(
        "k-pay",
        "PASS",
        started_at=t,
        finished_at=t + timedelta(seconds=2),
        old_key_fingerprint="0123456789ab",
        evidence={"probes": [{"status": 200}]},
    )
    assert ws.latest_verdict("k-pay") == v and v.evidence == {"probes": [{"status": 200}]}
    assert ws.set_step_state("k-pay", "verified").state == "verified"
    # a new cut-over (after a rollback and retry) needs fresh evidence
    ws.set_step_state("k-pay", "rolled_back")
    for s in ("planned", "issued", "dual", "cut_over"):
        ws.set_step_state("k-pay", s)
    assert ws.step("k-pay").cut_over_at > cut
    with pytest.raises(WorkspaceError, match="cannot be marked verified"):
        ws.set_step_state("k-pay", "verified")


def test_verdict_needs_a_fingerprint_not_a_key(ws):
    ws.set_plan(PLAN)
    t = ws.clock()
    with pytest.raises(WorkspaceError, match="fingerprint"):
        ws.record_verdict(
            "k-pay",
            "PASS",
            started_at=t,
            finished_at=t,
            old_key_fingerprint="sk_live_abcdef",
            evidence={},
        )
    with pytest.raises(WorkspaceError, match="probe the right key"):
        ws.record_verdict(
            "k-fp",
            "PASS",
            started_at=t,
            finished_at=t,
            old_key_fingerprint="ffffffffffff",
            evidence={},
        )
    with pytest.raises(WorkspaceError, match="unknown verdict"):
        ws.record_verdict(
            "k-pay",
            "OK",
            started_at=t,
            finished_at=t,
            old_key_fingerprint="0123456789ab",
            evidence={},
        )
    assert ws.verdicts() == []


def test_one_active_certificate_per_slot(ws):
    ws.set_plan(PLAN)
    first = ws.add_certificate(_cert("0a01"))
    assert first.status == "active" and first.issued_at is not None
    assert ws.add_certificate(_cert("0a01")) == first  # same serial, same cert: no-op
    with pytest.raises(WorkspaceError, match="another certificate"):
        ws.add_certificate(_cert("a01", sha="b"))
    assert ws.add_certificate(_cert("a02", sha="c"), if_active="skip") == first
    with pytest.raises(WorkspaceError, match="already has active"):
        ws.add_certificate(_cert("a02", sha="c"), if_active="error")
    second = ws.add_certificate(_cert("0A:02", sha="c"), if_active="supersede")
    assert second.serial == "a02"
    assert [c.serial for c in ws.active_certificates(step="k-pay", service="web")] == ["a02"]
    old = ws.certificate("a01")
    assert old.status == "superseded" and old.reason == "superseded by a02"
    # another service, another step, a server cert without step: separate slots
    ws.add_certificate(_cert("b01", service="worker", sha="d"))
    ws.add_certificate(_cert("b02", step="k-ledger", sha="e"))
    ws.add_certificate(_cert("c01", step=None, service="payments-api", kind="server", sha="f"))
    ws.add_certificate(_cert("c02", step=None, service="payments-api", kind="server", sha="0"))
    assert len(ws.active_certificates()) == 4
    actions = [r.action for r in ws.audit_records()]
    assert actions.count("cert.issue") == 4 and actions.count("cert.renew") == 2
    assert actions.count("cert.supersede") == 2


def test_database_itself_refuses_two_active_certs_in_a_slot(ws):
    import sqlite3

    ws.set_plan(PLAN)
    ws.add_certificate(_cert("a01"))
    with pytest.raises(sqlite3.IntegrityError):
        ws.connection.execute(
            "INSERT INTO certificates SELECT 'a09', step_key, service, kind, spiffe_id, not_before,"
            " not_after, sha256, x5t_s256, cert_path, key_path, chain_path, p12_path, status,"
            " issued_at, revoked_at, reason FROM certificates WHERE serial = 'a01'"
        )


def test_certificate_for_unknown_step_is_refused(ws):
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        ws.add_certificate(_cert("a01", step="no-such-step"))
    assert ws.certificates() == []
    assert [r.action for r in ws.audit_records()] == ["workspace.create"]


def test_revoke_supersede_and_crl_numbers(ws):
    ws.set_plan(PLAN)
    ws.add_certificate(_cert("a01"))
    ws.add_certificate(_cert("b01", service="worker", sha="b"))
    r = ws.revoke_certificate("a01", "key compromise", now=T0 + timedelta(days=1))
    assert (r.status, r.reason, r.revoked_at) == (
        "revoked",
        "key compromise",
        T0 + timedelta(days=1),
    )
    assert ws.revoke_certificate("a01", "again") == r
    assert ws.supersede_certificate("b01", "renewed").status == "superseded"
    assert [c.serial for c in ws.revoked_certificates()] == ["a01"]
    assert [ws.next_crl_number() for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RuntimeError), ws.transaction():
        assert ws.next_crl_number() == 4
        raise RuntimeError("CRL signing failed")
    assert ws.next_crl_number() == 4
    with pytest.raises(WorkspaceError, match="no certificate"):
        ws.revoke_certificate("ff", "x")


def test_gateway_changes_are_recorded_and_audited(ws):
    ws.set_plan(PLAN)
    g = ws.record_gateway_change("payments-api", "key", "dual", "9" * 64, step_key="k-pay")
    assert ws.gateway_changes("payments-api") == [g]
    assert ws.audit_records()[-1].action == "gateway.change"
    with pytest.raises(WorkspaceError, match="sha256"):
        ws.record_gateway_change("payments-api", "dual", "mtls", "xyz")
    assert verify_audit(ws).ok


def test_nested_transactions_commit_once_and_roll_back_together(ws):
    ws.set_plan(PLAN)
    with pytest.raises(RuntimeError), ws.transaction():
        ws.set_step_state("k-pay", "issued")
        ws.add_certificate(_cert("a01"))
        raise RuntimeError("boom")
    assert ws.step("k-pay").state == "planned"
    assert ws.certificates() == []
    assert verify_audit(ws).ok
    with ws.transaction():
        ws.set_step_state("k-pay", "issued")
        ws.add_certificate(_cert("a01"))
    assert ws.step("k-pay").state == "issued" and len(ws.certificates()) == 1
    assert verify_audit(ws).ok


def test_changes_outside_a_transaction_are_refused_for_raw_audit(ws):
    with pytest.raises(WorkspaceError, match="inside ws.transaction"):
        ws.audit("ca.create", "root")


def _verified(ws):
    ws.set_plan(PLAN)
    for s in ("issued", "dual", "cut_over"):
        ws.set_step_state("k-pay", s)
    t = ws.clock()
    ws.record_verdict(
        "k-pay", "PASS", started_at=t, finished_at=t, old_key_fingerprint="0123456789ab",
        evidence={"probes": []},
    )  # fmt: skip
    assert ws.set_step_state("k-pay", "verified").state == "verified"


@pytest.mark.parametrize(("to_mode", "state"), [("key", "rolled_back"), ("mtls", "cut_over")])
def test_a_gateway_change_moves_a_verified_step_out_audited(ws, to_mode, state):
    # req. 32: verified only while the latest PASS is newer than the latest gateway change
    _verified(ws)
    ws.record_gateway_change("api-pay", "mtls", to_mode, "a" * 64, step_key="k-pay")
    assert ws.step("k-pay").state == state
    last = [r for r in ws.audit_records() if r.action == "step.state"][-1]
    assert "regressed" in last.details_json and last.subject == "k-pay"


def test_a_pass_older_than_the_latest_gateway_change_cannot_verify(ws):
    _verified(ws)
    ws.record_gateway_change("api-pay", "mtls", "mtls+token", "a" * 64, step_key="k-pay")
    assert ws.step("k-pay").state == "cut_over"
    with pytest.raises(WorkspaceError, match="gateway change"):
        ws.set_step_state("k-pay", "verified")  # the only PASS predates the change


def test_a_later_non_pass_moves_a_verified_step_out(ws):
    _verified(ws)
    t = ws.clock()
    ws.record_verdict(
        "k-pay", "INCONCLUSIVE", started_at=t, finished_at=t,
        old_key_fingerprint="0123456789ab", evidence={"probes": []},
    )  # fmt: skip
    step = ws.step("k-pay")
    assert step.state == "cut_over" and "regressed" in step.reason
