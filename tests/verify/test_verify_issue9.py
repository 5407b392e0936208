"""Every misconfiguration class of issue 9 against real misbehaving servers on 127.0.0.1.

Each of these servers passed the old verifier (one old-key probe, without a certificate, to
one path with GET, at one address, once, with one consumer's certificate) while the old key
still worked. Each test names what the fix covers; without it the verdict would be PASS.
"""

from __future__ import annotations

import base64
import json

import pytest
from verify_pki import API_HOST, OLD_KEY, identities
from verify_servers import main_sni

from workbench.verify import Options, Target, parse_connect_to, run_verify

FAST = Options(repeat=2, timeout=3)


def _failed(v):
    return {(p.name, p.evidence.form, p.evidence.method) for p in v.probes if p.outcome == "fail"}


def test_key_honoured_beside_any_valid_certificate_fails(pki, serve):
    # Class 1: a certificate is required at TLS, but the key still works at HTTP level.
    srv = serve("key_with_any_cert")
    v = run_verify(Target(srv.url), identities(pki), options=FAST).verdict
    assert v.verdict == "FAIL", v.reasons
    assert ("old-key+other-cert", "header X-API-Key", "GET") in _failed(v)
    assert {p.outcome for p in v.probes if p.name == "old-key-only"} == {"pass"}  # TLS refusal


@pytest.mark.parametrize(
    ("mode", "form"),
    [
        ("accepts_bearer", "Authorization: Bearer"),
        ("accepts_bare", "Authorization (bare)"),
        ("accepts_query_api_key", "query api_key"),
        ("accepts_query_access_token", "query access_token"),
    ],
)
def test_key_accepted_in_an_alternate_form_fails(pki, serve, mode, form):
    # Class 2: the declared header is refused, another form of the same key is not.
    srv = serve(mode)
    v = run_verify(Target(srv.url), identities(pki), options=FAST).verdict
    assert v.verdict == "FAIL", v.reasons
    assert {f for n, f, _ in _failed(v) if n == "old-key-only"} == {form}
    assert any(r.startswith(f"old-key-only [{form}]") for r in v.reasons)


def test_presented_as_adds_forms_from_the_inventory(pki, serve):
    srv = serve("accepts_x_token")
    plain = run_verify(Target(srv.url), identities(pki), options=FAST).verdict
    assert plain.verdict == "PASS"  # the server's own form is unknown without presented_as
    target = Target(srv.url, presented_as=("header:X-Token",))
    v = run_verify(target, identities(pki), options=FAST).verdict
    assert v.verdict == "FAIL"
    assert ("old-key-only", "header X-Token", "GET") in _failed(v)


def test_other_paths_take_the_key(pki, serve):
    # Class 3: only the health path moved to mTLS.
    srv = serve("unprotected_path")
    # Without probe_paths, only the other spellings of /health (/HEALTH, /health/ ...: the
    # path corners of test_verify_hunt.py) show it; the main matrix cannot.
    alone = run_verify(Target(srv.url), identities(pki), options=FAST).verdict
    assert alone.verdict == "FAIL"
    assert {p.name for p in alone.probes if p.outcome == "fail"} == {"old-key-corner"}
    target = Target(srv.url, probe_paths=("/v1/charges",))
    v = run_verify(target, identities(pki), options=FAST).verdict
    assert v.verdict == "FAIL"
    main = {p.evidence.url for p in v.probes if p.outcome == "fail" and not p.evidence.corner}
    assert main == {f"https://127.0.0.1:{srv.port}/v1/charges"}


def test_post_still_takes_the_key(pki, serve):
    # Class 3: only GET is protected.
    srv = serve("post_takes_key")
    v = run_verify(Target(srv.url), identities(pki), options=FAST).verdict
    assert v.verdict == "FAIL"
    assert {m for _, _, m in _failed(v)} == {"POST"}
    assert "POST" in srv.log.methods and "GET" in srv.log.methods


def test_a_second_entry_point_that_takes_the_key_fails(pki, serve):
    # Class 4: another host name / region / the backend's own port.
    good, bad = serve("correct"), serve("accept_old_key")
    target = Target(good.url, endpoints=(bad.url,))
    result = run_verify(target, identities(pki), options=FAST)
    assert result.verdict.verdict == "FAIL"
    assert {p.evidence.port for p in result.verdict.probes if p.outcome == "fail"} == {bad.port}
    assert result.scope["entry_points"] == [good.url, bad.url]
    assert good.log.connections > 0 and bad.log.connections > 0


def _dual_stack(serve, good_mode="correct", bad_mode="accept_old_key"):
    good = serve(good_mode)
    bad = serve(bad_mode, host="::1", port=good.port)
    return good, bad


def test_every_resolved_address_is_probed_a_and_aaaa(pki, serve):
    # Class 4: the host resolves to an IPv4 and an IPv6 address; only the v4 one is right.
    good, bad = _dual_stack(serve)

    async def resolver(host, port):
        assert host == API_HOST
        return ["127.0.0.1", "::1"]

    url = f"https://{API_HOST}:{good.port}/health"
    result = run_verify(Target(url), identities(pki), options=Options(repeat=1, resolver=resolver))
    v = result.verdict
    assert v.verdict == "FAIL", v.reasons
    assert {p.evidence.ip for p in v.probes if p.outcome == "fail"} == {"::1"}
    assert {p.evidence.ip for p in v.probes if p.name == "positive-control"} == {"127.0.0.1", "::1"}
    assert {p.evidence.sni for p in v.probes} == {API_HOST}
    assert result.scope["addresses"] == {url: ["127.0.0.1", "::1"]}
    assert "1 entry point x 2 addresses" in result.scope["text"]
    assert main_sni(good.log) == {API_HOST} == main_sni(bad.log)


def test_both_addresses_right_is_a_pass_and_says_so(pki, serve):
    good, _ = _dual_stack(serve, bad_mode="correct")
    url = f"https://{API_HOST}:{good.port}/health"
    pins = tuple(parse_connect_to(f"{API_HOST}:{good.port}:{a}") for a in ("127.0.0.1", "[::1]"))
    v = run_verify(Target(url), identities(pki), options=Options(repeat=1, connect_to=pins)).verdict
    assert v.verdict == "PASS", v.reasons
    assert "1 entry point x 2 addresses" in v.reasons[-1]


def test_half_the_replicas_taking_the_key_is_caught_by_repeats(pki, serve):
    # Class 5: one probe per credential is a coin toss; repeats on fresh connections are not.
    srv = serve("half_replicas")
    v = run_verify(Target(srv.url), identities(pki)).verdict  # default --repeat 5
    assert v.verdict == "FAIL"
    declared = [p for p in v.probes if p.evidence.form == "header X-API-Key"]
    assert {p.evidence.attempt for p in declared} == {1, 2, 3, 4, 5}
    assert 0 < sum(p.outcome == "fail" for p in declared) < len(declared)


def test_a_consumer_missing_from_the_allow_list_is_found(pki, serve):
    # Class 12: every consumer's certificate is a positive control.
    srv = serve("allow_list_partial")
    one = run_verify(Target(srv.url), identities(pki), options=FAST).verdict
    assert one.verdict == "PASS"
    v = run_verify(Target(srv.url), identities(pki, consumers=2), options=FAST).verdict
    assert v.verdict == "FAIL"
    refused = [p for p in v.probes if p.name == "positive-control" and p.outcome == "fail"]
    assert len(refused) == 1 and "payroll" in refused[0].evidence.identity
    assert "2 consumers" in json.dumps(v.scope)


def test_foreign_ca_probe_is_never_skipped(pki, serve):
    # Class 6 (Python side): without --foreign-cert a throwaway look-alike is presented.
    srv = serve("correct")
    v = run_verify(Target(srv.url), identities(pki, negatives=False), options=FAST).verdict
    foreign = [p for p in v.probes if p.name == "foreign-ca-cert"]
    assert foreign and all(p.outcome == "pass" for p in foreign)
    assert "throwaway foreign CA" in foreign[0].evidence.identity
    assert "spiffe://acme.test/svc/billing" in foreign[0].evidence.identity


def test_every_probe_carries_the_runs_random_token(pki, serve):
    srv = serve("correct")
    first = run_verify(Target(srv.url), identities(pki), options=Options(repeat=1))
    second = run_verify(
        Target(srv.url), identities(pki), options=Options(repeat=1, user_agent="ops-check/7")
    )
    assert first.run.token != second.run.token and len(first.run.token) == 32
    assert first.run.user_agent == f"workbench-verify/2 run/{first.run.token}"
    assert second.run.user_agent == f"ops-check/7 run/{second.run.token}"
    agents = srv.log.user_agents
    assert set(agents) == {first.run.user_agent, second.run.user_agent}
    assert agents.count(first.run.user_agent) == agents.count(second.run.user_agent) > 10


ENCODINGS = {
    "hex-upper": OLD_KEY.encode().hex().upper(),
    "hex-lower": OLD_KEY.encode().hex(),
    "base64": base64.b64encode(OLD_KEY.encode()).decode(),
    "base64url-unpadded": base64.urlsafe_b64encode(OLD_KEY.encode()).decode().rstrip("="),
    "percent-lower": "".join(f"%{b:02x}" for b in OLD_KEY.encode()),
    "percent-upper": "".join(f"%{b:02X}" for b in OLD_KEY.encode()),
    "basic": base64.b64encode(f"{OLD_KEY}:".encode()).decode(),
}


def test_encoded_echoes_of_the_key_never_reach_the_evidence(pki, serve):
    # Req. 30: the server echoes whatever key it got in every encoding, in Location.
    from workbench.verify import verdict_document

    srv = serve("echo_encoded")
    result = run_verify(Target(srv.url), identities(pki), options=FAST)
    text = json.dumps(verdict_document(result)) + repr(result)
    assert srv.log.keys_seen  # the key really went out and came back
    echoed = [p for p in result.verdict.probes if p.evidence.location]
    assert echoed
    for name, enc in ENCODINGS.items():
        assert enc not in text, name
        assert enc.lower() not in text.lower() or name.startswith(("base64", "basic")), name
    assert OLD_KEY not in text
    assert "<old key fp=" in echoed[0].evidence.location
