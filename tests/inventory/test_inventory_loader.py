"""Loader, validation rules, dump round-trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from workbench.errors import InventoryError
from workbench.inventory import (
    dump_inventory,
    is_safe_id,
    load_inventory,
    loads_inventory,
    validate_inventory,
)
from workbench.inventory.dump import inventory_to_dict
from workbench.inventory.model import Api, Inventory

SAMPLE = Path(__file__).resolve().parents[2] / "sample_env" / "inventory.yaml"

BASE = """\
version: 1
trust_domain: acme.test
apis:
  - id: pay-api
    url: https://127.0.0.1:8443/pay-api
    data_classes: [pci]
    owner: team-pay
    environment: prod
    provided_by: pay-svc
services:
  - id: pay-svc
    owner: team-pay
    environment: prod
    exposure: internal
  - id: web
    owner: team-web
    environment: prod
    exposure: internet
keys:
  - id: pay-key
    api: pay-api
    secret_ref: env:PAY_KEY
    created: 2021-03-01
    last_rotated: "2024-01-10"
integrations:
  - {consumer: web, key: pay-key, calls_per_day: 10}
"""


def problems_of(text: str, **kw) -> list[str]:
    with pytest.raises(InventoryError) as exc:
        loads_inventory(text, "inv.yaml", **kw)
    return exc.value.lines()


def test_sample_loads_with_locations():
    inv = load_inventory(SAMPLE)
    assert (len(inv.apis), len(inv.services), len(inv.keys), len(inv.integrations)) == (
        11,
        28,
        16,
        39,
    )
    assert inv.trust_domain == "acme.test"
    key = inv.key("pay-key-prod")
    assert key.created == date(2021, 3, 1)
    assert key.found_in == ("repo:checkout/config/prod.env", "ci:mobile-bff/PAY_KEY")
    assert key.location.file == str(SAMPLE) and key.location.line > 1
    assert SAMPLE.read_text().splitlines()[key.location.line - 1].strip() == "- id: pay-key-prod"


def test_sample_round_trips_through_dump():
    inv = load_inventory(SAMPLE)
    again = loads_inventory(dump_inventory(inv), "dumped.yaml")
    assert again == inv


def test_json_with_the_same_structure_loads_equal():
    inv = loads_inventory(BASE, "a.yaml")
    as_json = json.dumps(inventory_to_dict(inv), default=str, indent=1)
    assert loads_inventory(as_json, "a.json") == inv


def test_dates_as_yaml_dates_or_strings():
    inv = loads_inventory(BASE, "a.yaml")
    assert inv.key("pay-key").last_rotated == date(2024, 1, 10)
    assert inv.integrations[0].calls_per_day == 10


def test_quoted_numbers_and_words_stay_strings_and_round_trip():
    text = (
        BASE.replace("owner: team-web", 'owner: "0777"')
        .replace("id: web", 'id: "no"')
        .replace("consumer: web", 'consumer: "no"')
    )
    inv = loads_inventory(text, "a.yaml")
    assert inv.service("no").owner == "0777"
    assert loads_inventory(dump_inventory(inv), "b.yaml") == inv


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("owner: team-web", "owner: team-web\n    colour: red", "unknown field 'colour'"),
        (
            "    secret_ref: env:PAY_KEY",
            "    secret_ref: env:PAY_KEY\n    secret_rf: x",
            "did you mean 'secret_ref'",
        ),
        ("exposure: internet", "exposure: public", "exposure must be one of"),
        ("url: https://127.0.0.1:8443/pay-api", "url: http://127.0.0.1/pay-api", "https://"),
        ("url: https://127.0.0.1:8443/pay-api", "url: https://u:p@host/x", "credentials"),
        ("created: 2021-03-01", "created: 2021-02-30", "created must be a date"),
        ("calls_per_day: 10", "calls_per_day: lots", "whole number"),
        ("secret_ref: env:PAY_KEY", "secret_ref: vault/pay", "env:NAME or file:PATH"),
        (
            "    owner: team-pay\n    environment: prod\n    exposure: internal",
            "    environment: prod\n    exposure: internal",
            "missing owner",
        ),
        ("data_classes: [pci]", "data_classes: [pci, sparkly]", "unknown data class 'sparkly'"),
        ("api: pay-api", "api: nope-api", "uses api 'nope-api' which is not declared"),
        ("{consumer: web,", "{consumer: ghost,", "consumer 'ghost' is not a declared service"),
        ("key: pay-key, calls", "key: gone-key, calls", "key 'gone-key' is not a declared key"),
        ("provided_by: pay-svc", "provided_by: nobody", "provided_by 'nobody'"),
        ("version: 1", "version: 2", "unsupported version 2"),
        ("trust_domain: acme.test", "trust_domain: Acme_Test", "trust_domain"),
    ],
)
def test_each_rule_gives_a_located_error(old, new, expect):
    assert old in BASE
    lines = problems_of(BASE.replace(old, new, 1))
    assert any(expect in line for line in lines), lines
    assert all(line.startswith("inv.yaml:") for line in lines)


def test_duplicate_ids_report_both_locations():
    text = BASE.replace("  - id: web\n", "  - id: pay-svc\n")
    lines = problems_of(text, known_data_classes=None)
    dup = [line for line in lines if "duplicate service id 'pay-svc'" in line]
    assert dup == [
        "inv.yaml:15:5: duplicate service id 'pay-svc' (first at inv.yaml:11:5); ids must be unique"
    ]


def test_all_problems_are_collected():
    text = (
        BASE.replace("exposure: internet", "exposure: public")
        .replace("created: 2021-03-01", "created: someday")
        .replace("api: pay-api", "api: nope")
    )
    lines = problems_of(text)
    assert len(lines) == 3


def test_known_data_classes_are_injectable():
    assert loads_inventory(BASE, "a.yaml", known_data_classes={"pci"})
    lines = problems_of(BASE, known_data_classes={"pii"})
    assert "unknown data class 'pci'; known: pii" in lines[0]


@pytest.mark.parametrize(
    "bad",
    [
        "../etc",
        "a/b",
        "UPPER",
        "x" * 64,
        "a..b",
        "-lead",
        "pay\u202eipa",
        "p\u0430y",
        "nul\x00l",
        "",
        "a b",
        "a\n",
    ],
)
def test_unsafe_ids_are_refused(bad):
    assert not is_safe_id(bad)
    inv = Inventory(
        apis=(Api(id=bad, url="https://h/", data_classes=(), owner="o", environment="prod"),)
    )
    problems = validate_inventory(inv)
    assert any("a-z 0-9 . _ -" in p.message for p in problems)
    assert all("\u202e" not in p.message and "\x00" not in p.message for p in problems)


def test_unsafe_id_in_file_names_the_rule():
    lines = problems_of(BASE.replace("id: pay-key\n", 'id: "../pay-key"\n'))
    assert any(
        "key id contains a path separator; ids use only a-z 0-9 . _ -" in ln for ln in lines
    ), lines


@pytest.mark.parametrize(
    ("field_line", "kind"),
    [
        (
            "notes: '-----BEGIN PRIV" + "ATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'",
            "PEM private key",
        ),
        ("notes: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3YkNhbmFyeSJ9.c2lnbmF0dXJlLXdiQ2FuYXJ5", "JWT"),
        ("notes: old key AKIAWBCANARY00000009 was here", "AWS access key id"),
        ("tags: [Zq8Lr2Vx9Tb4Kw7Nm3Pd6Hs1Fj5Gc0Ya]", "high-entropy token"),
        ("found_in: ['repo:x/.env=Zq8Lr2Vx9Tb4Kw7Nm3Pd6Hs1Fj5Gc0Ya']", "high-entropy token"),
        ("secret_ref: env:Zq8Lr2Vx9Tb4Kw7Nm3Pd6Hs1Fj5Gc0Ya", "high-entropy token"),
    ],
)
def test_pasted_secrets_are_refused_without_echo(field_line, kind):
    text = BASE.replace("    secret_ref: env:PAY_KEY\n", f"    {field_line}\n")
    lines = problems_of(text)
    hit = [ln for ln in lines if "looks like a pasted secret" in ln]
    assert hit and kind in hit[0], lines
    for secret in ("MIIEvQ", "eyJhbGci", "AKIAWBCANARY", "Zq8Lr2Vx9Tb4"):
        assert all(secret not in ln for ln in lines)


def test_secret_as_field_name_is_not_echoed():
    lines = problems_of(
        BASE.replace("owner: team-web", "owner: team-web\n    AKIAWBCANARY00000003: x")
    )
    assert any("unknown field <value hidden" in ln for ln in lines), lines
    assert all("AKIAWBCANARY" not in ln for ln in lines)


def test_ordinary_values_are_not_mistaken_for_secrets():
    inv = load_inventory(SAMPLE)
    assert validate_inventory(inv) == []
    text = BASE.replace(
        "    secret_ref: env:PAY_KEY\n",
        "    secret_ref: env:PAY_KEY\n"
        "    notes: see https://wiki.acme.test/payments/keys/rotation-runbook "
        "and 123e4567-e89b-12d3-a456-426614174000 commit 0a1b2c3d4e5f\n",
    )
    assert loads_inventory(text, "a.yaml")


def test_bidi_in_free_text_is_refused():
    lines = problems_of(BASE.replace("owner: team-web", 'owner: "team\u202eweb"'))
    assert any("U+202E" in ln for ln in lines)
