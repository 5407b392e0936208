"""The scoring policy: the shipped default, and located errors for malformed ones."""

from __future__ import annotations

import textwrap

import pytest

from workbench.errors import PolicyError
from workbench.policy import FACTORS, load_policy, parse_policy

GOOD = """\
name: strict
weights: {data: 50, exposure: 50}
data_classes: {pci: 1.0, public: 0}
exposures: {internet: 1, partner: 0.5, internal: 0}
"""


def test_default_policy_loads_from_package_resources():
    p = load_policy()
    assert p.name == "default"
    assert p.source is None
    assert set(p.weights) == set(FACTORS)
    assert p.max_score == 100
    assert p.known_data_classes == {
        "pci", "phi", "pii", "secret", "confidential", "internal", "public",
    }  # fmt: skip
    assert p.exposures["internet"] > p.exposures["partner"] > p.exposures["internal"]
    assert p.pilot_max_keys == 2
    assert p.pilot_excluded_data_classes == ("pci", "phi")


def test_minimal_policy_from_a_file(tmp_path):
    f = tmp_path / "strict.yaml"
    f.write_text(GOOD)
    p = load_policy(f)
    assert p.name == "strict"
    assert p.source == str(f)
    assert p.weight("age") == 0.0
    assert p.known_data_classes == {"pci", "public"}


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        parse_policy(textwrap.dedent(text), "p.yaml")
    assert exc.value.exit_status == 2
    return exc.value.lines()


def test_bad_weight_is_located():
    lines = _problems(GOOD.replace("data: 50", "data: lots"))
    assert lines == ["p.yaml:2:17: weights.data must be a number >= 0"]


def test_negative_and_out_of_range_values_are_located():
    lines = _problems(GOOD.replace("pci: 1.0", "pci: 1.5").replace("exposure: 50", "exposure: -1"))
    assert lines == [
        "p.yaml:2:31: weights.exposure must be a number >= 0",
        "p.yaml:3:21: data_classes.pci must be between 0 and 1",
    ]


def test_unknown_keys_and_factors_are_located():
    lines = _problems(GOOD + "colour: blue\n").copy()
    assert lines[0].startswith("p.yaml:5:1: unknown policy key 'colour'")
    lines = _problems(GOOD.replace("data: 50", "karma: 50"))
    assert lines[0].startswith("p.yaml:2:11: unknown factor 'karma'")


def test_duplicate_keys_are_refused():
    lines = _problems(GOOD.replace("{pci: 1.0, public: 0}", "{pci: 1.0, pci: 0}"))
    assert lines == ["p.yaml:3:26: data_classes: duplicate key 'pci'; keep one"]


def test_anchors_aliases_and_tags_are_refused():
    lines = _problems(
        GOOD.replace("data: 50", "data: &w 50").replace("exposure: 50", "exposure: *w")
    )
    assert lines[0].startswith("p.yaml:2:17: anchors and aliases are not allowed")
    assert len(lines) == 2
    lines = _problems(GOOD.replace("data: 50", "data: !!float 50"))
    assert lines == ["p.yaml:2:17: explicit YAML tags are not allowed in a policy"]


def test_missing_sections_and_exposures():
    lines = _problems("name: x\nweights: {data: 1}\ndata_classes: {pci: 1}\n")
    assert lines == ["p.yaml:1:1: policy is missing 'exposures'"]
    lines = _problems(GOOD.replace("partner: 0.5, ", ""))
    assert lines == ["p.yaml:4:12: exposures is missing 'partner'"]


def test_syntax_error_is_one_located_line():
    lines = _problems("weights: {data: 1\n")
    assert len(lines) == 1
    assert lines[0].startswith("p.yaml:2:1: YAML syntax error")


def test_not_a_mapping_and_empty():
    assert _problems("- a\n- b\n") == ["p.yaml:1:1: policy must be a mapping"]
    assert _problems("") == ["p.yaml:1:1: policy file is empty"]


def test_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError) as exc:
        load_policy(tmp_path / "nope.yaml")
    (line,) = exc.value.lines()
    assert line.startswith(f"{tmp_path / 'nope.yaml'}:0:0: cannot read: No such file")


def test_sections_with_integers_and_lists():
    p = parse_policy(
        GOOD + "blast_radius: {cap: 10}\nage: {cap_days: 30}\n"
        "pilot: {max_keys: 1, exposures: [internal, partner], excluded_data_classes: []}\n"
    )
    assert (p.blast_cap, p.age_cap_days, p.pilot_max_keys) == (10, 30, 1)
    assert p.pilot_exposures == ("internal", "partner")
    lines = _problems(GOOD + "age: {cap_days: 0, colour: 1}\n")
    assert lines == [
        "p.yaml:5:17: age.cap_days must be a whole number >= 1",
        "p.yaml:5:20: unknown key age.colour; expected cap_days",
    ]
