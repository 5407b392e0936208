"""Importers (CSV, gitleaks, trufflehog, detect-secrets), merge, canary, CLI import."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ImportReportError
from workbench.inventory import (
    dump_inventory,
    find_findings,
    load_inventory,
    loads_inventory,
    merge_inventories,
    validate_inventory,
)
from workbench.inventory.importers import (
    import_csv,
    import_detect_secrets,
    import_gitleaks,
    import_report,
    import_trufflehog,
)

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "inventory"
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
LOCATED = re.compile(r"^[^:]+:\d+:\d+: ")
CANARIES = ("wbCanary", "AKIAWBCANARY", "CanarySecretPart")
PAY_FP = hashlib.sha256(b"wbCanaryPay_7Qx2Lm9Rt4Vz8Kp3Nw6Yb1").hexdigest()[:12]


def test_gitleaks_one_key_per_secret_across_files():
    inv = import_report("gitleaks", FIX / "gitleaks.json")
    assert [k.id for k in inv.keys] == [f"leaked-{PAY_FP}", inv.keys[1].id]
    pay = inv.keys[0]
    assert pay.fingerprint == PAY_FP and pay.api == "unassigned"
    assert pay.found_in == (
        "repo:checkout/config/prod.env:12@0a1b2c3d4e5f",
        "repo:mobile-bff/src/config.ts:3@111111111111",
    )
    assert "needs-triage" in pay.tags and "gitleaks:generic-api-key" in pay.tags
    assert inv.keys[1].found_in == ("repo:infra/deploy.sh:40",)
    assert validate_inventory(inv) == []
    assert pay.location.line == 2


def test_gitleaks_redacted_report_gives_located_keys_without_fingerprint():
    inv = import_report("gitleaks", FIX / "gitleaks-redacted.json")
    (key,) = inv.keys
    assert key.fingerprint is None and key.id.startswith("located-")
    assert import_report("gitleaks", FIX / "gitleaks-redacted.json").keys[0].id == key.id


def test_trufflehog_git_and_filesystem_and_verified():
    inv = import_report("trufflehog", FIX / "trufflehog.jsonl")
    pay = inv.key(f"leaked-{PAY_FP}")  # same secret as gitleaks: same id
    assert pay.found_in == (
        "repo:checkout/config/prod.env:12@0a1b2c3d4e5f",
        "filesystem:/srv/app/.env:2",
    )
    aws = inv.keys[1]
    assert aws.found_in == ("repo:fraud-scorer/settings.py:7@222222222222",)
    assert "verified" in aws.tags and "trufflehog:aws" in aws.tags


def test_detect_secrets_uses_sha1_and_skips_audited_false_positives():
    inv = import_report("detect-secrets", FIX / "detect-secrets.baseline")
    (key,) = inv.keys
    assert key.fingerprint == "sha1:5baa61e4c9b9" and key.id == "leaked-sha1-5baa61e4c9b9"
    assert key.found_in == ("repo:checkout/config/prod.env:12", "repo:mobile-bff/src/config.ts:3")


def test_csv_declares_entities_and_unions_found_in():
    inv = import_report("csv", FIX / "integrations.csv")
    assert [a.id for a in inv.apis] == ["payments-api", "ledger-api"]
    assert inv.service("checkout-web").exposure == "internet"
    assert inv.key("pay-key-prod").found_in == (
        "repo:checkout/config/prod.env",
        "ci:mobile-bff/PAY_KEY",
    )
    assert [(i.consumer, i.key, i.calls_per_day) for i in inv.integrations] == [
        ("checkout-web", "pay-key-prod", 12000),
        ("mobile-bff", "pay-key-prod", 800),
        ("billing-worker", "ledger-key", None),
        ("checkout-web", "ledger-key", 5),
    ]
    assert validate_inventory(inv) == []


def test_csv_can_rely_on_the_base_inventory():
    base = load_inventory(SAMPLE)
    text = "consumer,key,api,found_in\nsupport-desk,new-key,ledger-api,ticket:OPS-9\n"
    merged = merge_inventories(base, import_csv(text, "s.csv", base=base))
    assert merged.key("new-key").api == "ledger-api"
    assert ("support-desk", "new-key") in {(i.consumer, i.key) for i in merged.integrations}
    with pytest.raises(ImportReportError) as exc:
        import_csv(text, "s.csv")
    assert exc.value.lines()[1].startswith("s.csv:2:3: this api is not in the inventory")


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("", "s.csv:0:0: CSV is empty"),
        ("consumer,key,api,colour\na,b,c,d\n", "s.csv:1:4: unknown column 'colour'"),
        ("consumer,key\na,b\n", "s.csv:1:0: missing column 'api'"),
        ("consumer,key,api\na,b\n", "s.csv:2:3: row has 2 cells"),
        ("consumer,key,api\n,b,c\n", "s.csv:2:1: consumer is empty"),
        (
            "consumer,key,api,api_url,data_classes,api_owner,api_environment,consumer_owner,"
            "consumer_environment\nA,b,c,http://x,pii,o,prod,o,prod\n",
            "s.csv:2:4: url must",
        ),
        ("consumer,key,api,created\na,b,c,yesterday\n", "s.csv:2:4: created must be a date"),
        (
            "consumer,key,api,secret_ref,api_url,data_classes,api_owner,api_environment,"
            "consumer_owner,consumer_environment\na,b,c,AKIAWBCANARY00000005,https://h/,pii,o,prod,"
            "o,prod\n",
            "s.csv:2:4: secret_ref looks like a pasted secret",
        ),
        (
            "consumer,key,api,header,api_url,data_classes,api_owner,api_environment,consumer_owner,"
            "consumer_environment\na,b,c,X-A,https://h/,pii,o,prod,o,prod\na,b,c,X-B,,,,,,\n",
            "s.csv:3:4: header differs from line 2",
        ),
        ('consumer,key,api\n"a,b,c\n', "s.csv:"),
    ],
)
def test_csv_malformed_is_located(text, expect):
    with pytest.raises(ImportReportError) as exc:
        import_csv(text, "s.csv")
    lines = exc.value.lines()
    assert any(line.startswith(expect) for line in lines), lines
    assert all(LOCATED.match(line) for line in lines)
    assert all("AKIAWBCANARY" not in line for line in lines)


@pytest.mark.parametrize(
    ("func", "text", "expect"),
    [
        (import_detect_secrets, "", "r:0:0: report is empty"),
        (import_gitleaks, "{}", "r:1:1: a gitleaks report is a JSON array"),
        (import_gitleaks, "[1]", "r:1:2: finding 1 is not an object"),
        (import_gitleaks, '[{"File": "a", "StartLine": 1}]', "r:1:2: finding 1 has no Secret"),
        (
            import_gitleaks,
            '[{"File": "a", "StartLine": "x", "Secret": "wbCanaryZZ"}]',
            "r:1:29: finding 1: StartLine must be a number",
        ),
        (import_gitleaks, '[{"File": "a",', "r:1:15: JSON syntax error: the file ends before"),
        (import_gitleaks, '[{"File": "a", "File": "b"}]', "r:1:16: duplicate key 'File'"),
        (
            import_trufflehog,
            '{"SourceMetadata": {"Data": {}}, "Raw": "wbCanaryZZ"}\n',
            "r:1:1: SourceMetadata.Data must name exactly one source",
        ),
        (import_trufflehog, '{"ok": 1}\nnot json\n', "r:1:1: SourceMetadata"),
        (import_trufflehog, "\n[1, 2]\n", "r:2:1: not a JSON object"),
        (import_detect_secrets, '{"version": "1"}', "r:1:1: a detect-secrets baseline has"),
        (
            import_detect_secrets,
            '{"results": {"a.py": [{"hashed_secret": "xyz"}]}}',
            "r:1:41: finding 1 of a results entry: hashed_secret must be 40 hex",
        ),
        (import_detect_secrets, '{"results": {"a.py": {}}}', "r:1:22: each results entry"),
    ],
)
def test_malformed_reports_are_located(func, text, expect):
    with pytest.raises(ImportReportError) as exc:
        func(text, "r")
    lines = exc.value.lines()
    assert any(line.startswith(expect) for line in lines), lines
    assert all("wbCanary" not in line for line in lines)


def test_merge_matches_by_fingerprint_and_is_idempotent():
    base = load_inventory(SAMPLE)
    leaks = import_report("gitleaks", FIX / "gitleaks.json")
    once = merge_inventories(base, leaks)
    assert merge_inventories(once, leaks) == once
    truffle = import_report("trufflehog", FIX / "trufflehog.jsonl")
    twice = merge_inventories(once, truffle)
    pay = twice.key(f"leaked-{PAY_FP}")
    assert pay.found_in == (
        "repo:checkout/config/prod.env:12@0a1b2c3d4e5f",
        "repo:mobile-bff/src/config.ts:3@111111111111",
        "filesystem:/srv/app/.env:2",
    )
    assert merge_inventories(twice, truffle) == twice
    assert len(twice.keys) == len(base.keys) + 3
    assert [a.id for a in twice.apis].count("unassigned") == 1
    assert validate_inventory(twice) == []
    assert loads_inventory(dump_inventory(twice), "t.yaml") == twice
    triage = [
        f
        for f in find_findings(twice, today=__import__("datetime").date(2026, 1, 1))
        if f.code == "key-needs-triage"
    ]
    assert len(triage) == 3


def test_merge_fingerprint_onto_known_key_and_id_collisions():
    base = loads_inventory(
        dump_inventory(load_inventory(SAMPLE)).replace(
            "  - vault:secret/payments/cards\n",
            f"  - vault:secret/payments/cards\n  fingerprint: {PAY_FP}\n",
        ),
        "b.yaml",
    )
    merged = merge_inventories(base, import_report("gitleaks", FIX / "gitleaks.json"))
    cards = merged.key("cards-key")
    assert cards.found_in[1:] == (
        "repo:checkout/config/prod.env:12@0a1b2c3d4e5f",
        "repo:mobile-bff/src/config.ts:3@111111111111",
    )
    assert cards.api == "cards-vault-api" and len(merged.keys) == len(base.keys) + 1
    # an incoming key whose id is taken by a different secret gets a fresh safe id
    clash = import_gitleaks((FIX / "gitleaks.json").read_text(), "g")
    other = replace(clash, keys=(replace(clash.keys[0], fingerprint="abcdefabcdef"),))
    renamed = merge_inventories(other, clash)
    assert {k.id for k in renamed.keys} >= {f"leaked-{PAY_FP}", f"leaked-{PAY_FP}-2"}


def test_canary_never_written_anywhere(tmp_path, capsys):
    out = tmp_path / "inv.yaml"
    out.write_bytes(SAMPLE.read_bytes())
    outputs = []
    for kind, report in (
        ("gitleaks", "gitleaks.json"),
        ("trufflehog", "trufflehog.jsonl"),
        ("detect-secrets", "detect-secrets.baseline"),
        ("gitleaks", "gitleaks-redacted.json"),
    ):
        assert main(["import", kind, str(FIX / report), "--into", str(out), "-o", str(out)]) == 0
        assert main(["import", kind, str(FIX / report), "--json"]) == 0
        assert main(["import", kind, str(FIX / report)]) == 0
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err, out.read_text()]
    assert main(["inventory", "check", str(out), "--json"]) == 1
    outputs.append(capsys.readouterr().out)
    blob = "\n".join(outputs) + "".join(p.read_text() for p in tmp_path.iterdir())
    for canary in CANARIES:
        assert canary not in blob
    assert PAY_FP in blob  # the fingerprint is what remains


def test_cli_import_into_is_atomic_and_keeps_old_file_on_error(tmp_path, capsys):
    target = tmp_path / "inv.yaml"
    target.write_bytes(SAMPLE.read_bytes())
    before = target.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('[{"File": 1')
    assert main(["import", "gitleaks", str(bad), "--into", str(target), "-o", str(target)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err and all(LOCATED.match(line) for line in err)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "inv.yaml"]
    assert (
        main(
            [
                "import",
                "csv",
                str(FIX / "integrations.csv"),
                "--into",
                str(target),
                "-o",
                str(target),
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["keys_added"] == 0 and summary["found_in_added"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "inv.yaml"]
    assert (
        load_inventory(target).key("pay-key-prod").secret_ref == "file:state/keys/pay-key-prod.key"
    )


def test_cli_import_in_a_real_subprocess(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "import",
            "trufflehog",
            str(FIX / "trufflehog.jsonl"),
            "--into",
            str(SAMPLE),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "leaked-" in proc.stdout and "wbCanary" not in proc.stdout + proc.stderr
    assert loads_inventory(proc.stdout, "-").key(f"leaked-{PAY_FP}")


def test_non_utf8_report_is_located(tmp_path, capsys):
    bad = tmp_path / "r.jsonl"
    bad.write_bytes(b'{"a": "\xff"}\n')
    assert main(["import", "trufflehog", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"{bad}:1:8: not valid UTF-8")
