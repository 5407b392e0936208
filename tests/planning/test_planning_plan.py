"""Scoring decomposition, ranking, waves and strategies."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from planning_support import make_inventory

from workbench.errors import InputError
from workbench.graph import build_graph
from workbench.plan import make_plan, score_key
from workbench.policy import load_policy, parse_policy

TODAY = date(2026, 11, 22)


def test_contributions_sum_to_the_score_and_are_bounded(chain_inv):
    policy = load_policy()
    plan = make_plan(chain_inv, today=TODAY)
    assert len(plan.steps) == len(chain_inv.keys)
    for step in plan.steps:
        assert step.score == pytest.approx(sum(r.contribution for r in step.reasons), abs=1e-9)
        assert {r.factor for r in step.reasons} == set(policy.weights)
        for r in step.reasons:
            assert 0 <= r.contribution <= policy.weight(r.factor)
            assert r.detail
        contribs = [r.contribution for r in step.reasons]
        assert contribs == sorted(contribs, reverse=True)


def test_each_factor_reads_the_inventory(chain_inv):
    policy = load_policy()
    plan = make_plan(chain_inv, today=TODAY)
    k3 = {r.factor: r for r in plan.step("k3").reasons}
    assert k3["data"].contribution == policy.weight("data")  # api3 carries pci
    assert "pci" in k3["data"].detail
    assert k3["exposure"].contribution == round(policy.weight("exposure") * 0.2, 2)
    blast = math.log1p(3) / math.log1p(policy.blast_cap)
    assert k3["blast_radius"].contribution == round(policy.weight("blast_radius") * blast, 2)
    assert k3["blast_radius"].detail.startswith("3 services")
    assert k3["age"].contribution == round(policy.weight("age") * 1056 / 1095, 2)  # 2024-01-01
    assert k3["third_party"].contribution == 0
    k4 = {r.factor: r for r in plan.step("k4").reasons}
    assert k4["exposure"].detail == "top is internet-facing (1)"
    assert k4["third_party"].contribution == policy.weight("third_party")
    assert k4["environment"].contribution == round(policy.weight("environment") * 0.3, 2)


def test_age_unknown_counts_as_full_and_today_is_injectable():
    inv = make_inventory(
        apis=[("x", ["public"], "prod", None)],
        services=[("s", "prod", "internal")],
        keys=[
            ("old", "x", None),
            ("new", "x", date(2026, 11, 1)),
            ("rot", "x", date(2010, 1, 1), date(2026, 11, 12)),
        ],  # fmt: skip
        uses=[("s", "old"), ("s", "new"), ("s", "rot")],
    )
    policy = load_policy()
    graph = build_graph(inv)
    by = {
        k.id: dict((r.factor, r) for r in score_key(inv, k, policy=policy, blast_radius=1,
                                                     today=TODAY)[1])
        for k in inv.keys
    }  # fmt: skip
    assert by["old"]["age"].contribution == policy.weight("age")
    assert "unknown" in by["old"]["age"].detail
    assert by["new"]["age"].detail == "created 21 days ago"
    assert by["rot"]["age"].detail == "rotated 10 days ago"
    later = make_plan(inv, today=date(2027, 11, 22), graph=graph)
    assert later.step("new").score > make_plan(inv, today=TODAY, graph=graph).step("new").score
    assert later.generated_for == date(2027, 11, 22)


def test_order_is_score_desc_ties_by_id_and_deterministic():
    # Ten identical keys: all tie, so the order is by id.
    ids = [f"k{i:02d}" for i in (7, 3, 9, 1, 5, 0, 2, 8, 4, 6)]
    inv = make_inventory(
        apis=[("x", ["pii"], "prod", None), ("y", ["pci"], "prod", None)],
        services=[("s", "prod", "internal")],
        keys=[(k, "x") for k in ids] + [("zz-top", "y")],
        uses=[("s", k) for k in [*ids, "zz-top"]],
    )
    plan = make_plan(inv, today=TODAY, wave_size=4)
    keys = [s.key for s in plan.steps]
    assert keys == ["zz-top", *sorted(ids)]
    assert [s.rank for s in plan.steps] == list(range(1, 12))
    again = make_plan(inv, today=TODAY, wave_size=4)
    assert json.dumps(again.to_dict()) == json.dumps(plan.to_dict())


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_wave_sizes(chain_inv, size):
    plan = make_plan(chain_inv, today=TODAY, wave_size=size)
    assert [w.number for w in plan.waves] == list(range(1, len(plan.waves) + 1))
    assert all(1 <= len(w.steps) <= size for w in plan.waves)
    assert all(len(w.steps) == size for w in plan.waves[:-1])
    assert sum(len(w.steps) for w in plan.waves) == 5
    assert plan.wave(1) is plan.waves[0]
    with pytest.raises(KeyError):
        plan.wave(len(plan.waves) + 1)


def test_bad_arguments_are_input_errors(chain_inv):
    with pytest.raises(InputError):
        make_plan(chain_inv, wave_size=0)
    with pytest.raises(InputError):
        make_plan(chain_inv, strategy="yolo")


def test_orphan_key_gets_a_flagged_revoke_only_step(chain_inv):
    step = make_plan(chain_inv, today=TODAY).step("k5")
    assert step.action == "revoke-only"
    assert "orphan" in step.flags
    assert step.consumers == ()
    assert step.blast_radius == 0
    exposure = next(r for r in step.reasons if r.factor == "exposure")
    assert exposure.contribution == 0


def test_flags(chain_inv):
    plan = make_plan(chain_inv, today=TODAY)
    assert set(plan.step("k4").flags) == {"shared", "mixed-environments", "third-party"}
    assert plan.step("k4").environments == ("prod", "staging")
    assert plan.step("k1").flags == ()


def _pilot_inv():
    return make_inventory(
        apis=[
            ("cards", ["pci"], "prod", None),
            ("docs", ["public"], "prod", None),
            ("wiki", ["internal"], "prod", None),
            ("crm", ["pii"], "prod", None),
            ("health", ["phi"], "prod", None),
        ],
        services=[
            ("web", "prod", "internet"),
            ("batch", "prod", "internal"),
            ("cron", "prod", "internal"),
            ("stg", "staging", "internal"),
        ],
        keys=[
            ("card-key", "cards"),
            ("doc-key", "docs"),
            ("wiki-key", "wiki"),
            ("crm-key", "crm"),
            ("web-key", "docs"),
            ("health-key", "health"),
            ("mixed-key", "wiki"),
            ("orphan-key", "docs"),
        ],  # fmt: skip
        uses=[
            ("batch", "card-key"),
            ("batch", "doc-key"),
            ("cron", "wiki-key"),
            ("cron", "crm-key"),
            ("web", "web-key"),
            ("batch", "health-key"),
            ("batch", "mixed-key"),
            ("stg", "mixed-key"),
        ],  # fmt: skip
    )


def test_pilot_first_rehearses_on_low_risk_internal_keys():
    inv = _pilot_inv()
    risk = make_plan(inv, today=TODAY, wave_size=3)
    pilot = make_plan(inv, today=TODAY, wave_size=3, strategy="pilot-first")
    wave1 = pilot.wave(1)
    assert wave1.pilot and not risk.wave(1).pilot
    assert len(wave1.steps) == 2  # policy pilot max_keys
    eligible = {"doc-key", "wiki-key", "crm-key"}  # internal-only, no pci/phi, one env
    picked = [s.key for s in wave1.steps]
    assert set(picked) <= eligible
    # lowest scores of the eligible ones, lowest first
    scores = {s.key: s.score for s in risk.steps}
    assert picked == sorted(eligible, key=lambda k: (scores[k], k))[:2]
    assert all("pilot" in s.flags for s in wave1.steps)
    # then risk-first for everything else, nothing lost or repeated
    rest = [s.key for w in pilot.waves[1:] for s in w.steps]
    assert rest == [s.key for s in risk.steps if s.key not in picked]
    assert len(pilot.steps) == len(inv.keys)


def test_pilot_first_without_candidates_is_risk_first():
    inv = make_inventory(
        apis=[("cards", ["pci"], "prod", None)],
        services=[("web", "prod", "internet")],
        keys=[("a", "cards"), ("b", "cards")],
        uses=[("web", "a"), ("web", "b")],
    )
    plan = make_plan(inv, today=TODAY, strategy="pilot-first")
    assert not plan.wave(1).pilot
    assert [s.key for s in plan.steps] == ["a", "b"]


def test_pilot_wave_is_capped_by_wave_size():
    plan = make_plan(_pilot_inv(), today=TODAY, wave_size=1, strategy="pilot-first")
    assert len(plan.wave(1).steps) == 1


def test_a_custom_policy_changes_the_ranking(chain_inv):
    only_age = parse_policy(
        "name: age-only\nweights: {age: 10}\ndata_classes: {pci: 1}\n"
        "exposures: {internet: 1, partner: 1, internal: 1}\n"
    )
    inv = make_inventory(
        apis=[("cards", ["pci"], "prod", None), ("docs", ["public"], "prod", None)],
        services=[("web", "prod", "internet")],
        keys=[("fresh-pci", "cards", date(2026, 11, 1)), ("old-docs", "docs", date(2020, 1, 1))],
        uses=[("web", "fresh-pci"), ("web", "old-docs")],
    )
    assert make_plan(inv, today=TODAY).steps[0].key == "fresh-pci"
    plan = make_plan(inv, today=TODAY, policy=only_age)
    assert plan.steps[0].key == "old-docs"
    assert plan.policy_name == "age-only"
    assert [r.factor for r in plan.steps[0].reasons] == ["age"]


def test_to_dict_shape(chain_inv):
    d = json.loads(json.dumps(make_plan(chain_inv, today=TODAY, wave_size=2).to_dict()))
    assert d["strategy"] == "risk-first" and d["policy"] == "default"
    assert d["generated_for"] == "2026-11-22"
    assert [w["number"] for w in d["waves"]] == [1, 2, 3]
    step = d["waves"][0]["steps"][0]
    assert {"key", "api", "consumers", "score", "reasons", "rank", "flags"} <= set(step)
    assert {"factor", "contribution", "detail"} == set(step["reasons"][0])
    assert isinstance(step["consumers"], list)
