"""The program report's figures, each checked against the workspace database read directly."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from report_support import NO_KEYS, ORPHAN_ONLY, db_rows, parse
from testkit import lab_state

import workbench as wb
from workbench.report.charts import program_charts


def _report(ws, **kw):
    with wb.open_campaign(ws) as campaign:
        return wb.program_report(campaign, **kw)


def _rehearsal_end(ws) -> datetime:
    """The last verification of the rehearsal: tokens fetched then were still live."""
    return max(parse(r[0]) for r in db_rows(ws, "SELECT finished_at FROM verdicts"))


def _api_modes(ws, api_ids) -> dict[str, str]:
    modes = dict.fromkeys(api_ids, "key")
    for api, to_mode in db_rows(ws, "SELECT api, to_mode FROM gateway_changes ORDER BY id"):
        modes[api] = to_mode
    return modes


def test_sender_constrained_shares_match_the_gateway_record(sample_ws):
    report = _report(sample_ws)
    inv = wb.load_inventory(db_rows(sample_ws, "SELECT inventory_path FROM workspace")[0][0])
    modes = _api_modes(sample_ws, [a.id for a in inv.apis])
    constrained = [a for a, m in modes.items() if m in ("mtls", "mtls+token")]
    assert constrained, "the rehearsal moves at least one API to certificates only"
    assert report.apis_total == len(inv.apis)
    assert report.apis_sender_constrained == len(constrained)
    assert report.api_modes == modes
    assert report.mode_counts("apis")["mtls+token"] == sum(
        1 for m in modes.values() if m == "mtls+token"
    )
    figures = report.figures()
    assert figures["apis"]["share"] == pytest.approx(len(constrained) / len(inv.apis))


def test_keys_retired_are_the_verified_steps(sample_ws):
    report = _report(sample_ws)
    verified = {k for (k,) in db_rows(sample_ws, "SELECT key FROM steps WHERE state='verified'")}
    rolled = {k for (k,) in db_rows(sample_ws, "SELECT key FROM steps WHERE state='rolled_back'")}
    assert verified and rolled, "the rehearsal has PASSes and a caught FAIL"
    retired = {r.key for r in report.retirements if r.retired_at is not None}
    assert retired == verified
    assert report.keys_retired == len(verified)
    assert report.keys_remaining == report.keys_total - len(verified)
    for key in rolled:
        assert report.key_modes[key] == "dual"  # rolled back: the old key works again
    tokened = [k for k, m in report.key_modes.items() if m == "mtls+token"]
    assert len(tokened) == 1 and tokened[0] in verified


def test_retirement_time_is_the_first_verified_transition(sample_ws):
    report = _report(sample_ws)
    created = parse(db_rows(sample_ws, "SELECT created_at FROM workspace")[0][0])
    first_verified: dict[str, datetime] = {}
    for subject, time, details in db_rows(
        sample_ws, "SELECT subject, time, details FROM audit WHERE action='step.state' ORDER BY seq"
    ):
        if json.loads(details)["to"] == "verified":
            first_verified.setdefault(subject, parse(time))
    by_key = {r.key: r for r in report.retirements}
    retired = [k for k, r in by_key.items() if r.retired_at is not None]
    assert retired
    for key in retired:
        assert by_key[key].discovered_at == created
        assert by_key[key].retired_at == first_verified[key]
        assert by_key[key].days == pytest.approx(
            (first_verified[key] - created).total_seconds() / 86400
        )
    # claims-key was re-verified under mtls+token later: retirement stays the first PASS
    days = report.figures()["discovery_to_retirement_days"]
    assert days["retired"] == len(retired)
    assert days["max"] == pytest.approx(max(by_key[k].days for k in retired))


def test_data_classes_count_retired_and_remaining(sample_ws):
    report = _report(sample_ws)
    inv = wb.load_inventory(db_rows(sample_ws, "SELECT inventory_path FROM workspace")[0][0])
    verified = {k for (k,) in db_rows(sample_ws, "SELECT key FROM steps WHERE state='verified'")}
    expected: dict[str, list[int]] = {}
    for key in inv.keys:
        for dc in inv.api(key.api).data_classes:
            expected.setdefault(dc, [0, 0])[0 if key.id in verified else 1] += 1
    assert {r.data_class: [r.retired, r.remaining] for r in report.by_data_class} == expected


def test_expiring_certificates_follow_the_window(sample_ws):
    active = db_rows(
        sample_ws,
        "SELECT serial, not_after FROM certificates WHERE kind='client' AND status='active'",
    )
    assert active
    now = _rehearsal_end(sample_ws)
    soonest = min(parse(t) for _, t in active)
    wide = _report(sample_ws, now=now, expiry_window=soonest - now + timedelta(days=60))
    assert {c.serial for c in wide.expiring} == {s for s, _ in active}
    narrow = _report(sample_ws, now=now, expiry_window=(soonest - now) - timedelta(hours=1))
    assert narrow.expiring == ()
    assert narrow.figures()["certificates_expiring"]["count"] == 0


def test_bound_tokens_a_renewal_breaks_come_from_the_token_server_log(sample_ws):
    now = _rehearsal_end(sample_ws)
    thumbs = {
        t: s
        for t, s in db_rows(
            sample_ws,
            "SELECT x5t_s256, service FROM certificates WHERE kind='client' AND status='active'",
        )
    }
    log = lab_state(sample_ws) / "authserver" / "events.log"  # the workspace's own lab
    live = []
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("endpoint") != "token" or rec.get("status") != 200 or "x5t_s256" not in rec:
            continue
        if datetime.fromtimestamp(int(rec["exp"]), UTC) > now and rec["x5t_s256"] in thumbs:
            live.append((thumbs[rec["x5t_s256"]], rec["jti"]))
    assert live, "the rehearsal's mtls+token consumers fetched bound tokens"
    report = _report(sample_ws, now=now)
    assert report.tokens_known
    assert sorted((t.service, t.jti) for t in report.bound_tokens_at_risk) == sorted(live)
    later = _report(sample_ws, now=now + timedelta(hours=1))
    assert later.bound_tokens_at_risk == ()  # expired tokens break nothing


def test_open_findings_are_the_tracked_ones_on_keys_not_retired(team_ws):
    report = _report(team_ws)
    verified = {k for (k,) in db_rows(team_ws, "SELECT key FROM steps WHERE state='verified'")}
    inv = wb.load_inventory(db_rows(team_ws, "SELECT inventory_path FROM workspace")[0][0])
    tracked = {"key-shared": "shared", "key-spans-environments": "cross-environment",
               "key-third-party": "third-party"}  # fmt: skip
    expected = sorted(
        (tracked[f.code], f.subject)
        for f in wb.find_findings(inv, today=report.generated_at.date())
        if f.code in tracked and f.subject not in verified
    )
    assert sorted((o.kind, o.key) for o in report.open_findings) == expected
    counts = report.figures()["open_findings"]
    assert sum(counts.values()) == len(expected)
    assert set(counts) == {"shared", "cross-environment", "third-party"}


def test_integrations_on_certificates(team_ws):
    report = _report(team_ws)
    verified = {k for (k,) in db_rows(team_ws, "SELECT key FROM steps WHERE state='verified'")}
    inv = wb.load_inventory(db_rows(team_ws, "SELECT inventory_path FROM workspace")[0][0])
    assert report.integrations_on_certificates == sum(
        1 for i in inv.integrations if i.key in verified
    )
    assert report.integrations_total == len(inv.integrations)


@pytest.mark.parametrize("text", [NO_KEYS, ORPHAN_ONLY], ids=["no-keys", "orphan-only"])
def test_report_and_pictures_on_degenerate_inventories(tmp_path, text):
    source = tmp_path / "inventory.yaml"
    source.write_text(text)
    ws = wb.rehearse(source, tmp_path / "rehearsal")
    report = _report(ws)
    inv = wb.load_inventory(source)
    assert report.keys_total == len(inv.keys)
    assert report.keys_retired == 0
    assert report.apis_sender_constrained == 0
    assert report.figures()["apis"]["total"] == len(inv.apis)
    charts = program_charts(report)
    assert set(charts) == {
        "sender-constrained",
        "data-classes",
        "discovery-to-retirement",
        "certificates-expiring",
        "revocation-drills",
    }
    for fig in charts.values():
        fig.canvas.draw()  # raises if a chart cannot be drawn
    with wb.open_campaign(ws) as campaign:
        review = wb.cutover_review(campaign)
    assert review.runs == []
    assert len(review.left) == len(inv.keys)
