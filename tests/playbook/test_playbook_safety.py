"""Injection corpus through every format (req. 22), old-key canary (req. 11), honest evidence."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from playbook_support import NOW, SCHEMA_PATH, ticket, waves

import workbench.playbook as pb
from workbench.errors import PlaybookError
from workbench.secrets import SecretValue

HOSTILE = [
    '=HYPERLINK("http://evil/","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "  =leading-space",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![x](http://evil/track.png)",
    "[click](javascript:alert(1))",
    "<https://evil.example/>",
    "https://evil.example/phish www.evil.example a@evil.example",
    "# Heading injection",
    "| fake | table |\n|---|---|\n| a | b |",
    "line one\nline two\r\n## Approvals\n- [x] approved by attacker",
    "admin\u202egnp.exe\u2066\u200b",
    "```\n</code><script>x</script>",
    "&lt;script&gt; &#60;img&#62;",
    "**bold** _em_ ~~strike~~ `code`",
]
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u061c]")


def hostile_waves() -> list[pb.WaveContext]:
    out = []
    for i, text in enumerate(HOSTILE):
        ctx = ticket(
            f"k{i}",
            api=pb.ApiRef("api-x", text, text, text, (text,), provided_by=text),
            consumers=(pb.ConsumerRef(text, text, text, text), pb.ConsumerRef("ok", "t", "prod")),
            reasons=(pb.RiskReason(text, 1.0, text),),
            usage=pb.KeyUsage(text, (pb.ClientUsage(text, 1, None),)),
            certificates=(
                pb.CertificateRef("ok", "01", "ee" * 32, datetime(2027, 1, 1, tzinfo=UTC), (text,)),
            ),
            verdict=pb.VerdictRecord(
                "FAIL",
                (pb.ProbeResult("old-key-only", "refused", text, "fail", (("url", text),)),),
                (text,),
                NOW,
                NOW,
            ),
            audit=(pb.AuditRef(1, text, "ab" * 32),),
            notes=text,
            mermaid=f'flowchart LR\n  n0["{text}"]',
            extra_labels=(text,),
            commands=pb.CommandSet(
                precheck=(pb.Command(text, f"echo {text}", (text,)),),
                change=(pb.Command(text, f"echo {text}"),),
                verify=(pb.Command(text, "workbench verify"),),
                rollback=(pb.Command(text, "workbench gateway set-mode dual"),),
                rollback_verify=(),
            ),
        )
        out.append(ctx)
    return waves(*out)


def test_markdown_escapes_all_user_text(tmp_path):
    paths = pb.export_playbooks(hostile_waves(), fmt="md", out_dir=tmp_path, now=NOW, durable=False)
    assert len(paths) == 1 + len(HOSTILE)  # the wave's summary and one ticket per hostile text
    md_parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for p in paths:
        md = p.read_text()
        html = md_parser.render(md)
        # raw "<" only inside code spans/blocks, which every renderer shows literally
        assert "<img" not in re.sub(r"`[^`]*`", "", md), p.name
        assert "<script" not in html and "<img" not in html, p.name
        assert 'href="javascript' not in html.lower()
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert all(re.fullmatch(r"wave-\d\d-k\d+\.md", h) for h in hrefs), (p.name, hrefs)
        assert not re.search(r"<img\b| src=\"", html)
        assert not BIDI.search(md), p.name
        assert not re.search(
            r"<(?!/?(h[1-6]|p|table|thead|tbody|tr|th|td|ul|ol|li|strong|code|pre|a|br|hr|input)\b)",
            html,
        ), p.name
        if p.stem.count("-") >= 2:
            tokens = md_parser.parse(md)
            heads = [
                tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"
            ]
            assert len(heads) == 13, (p.name, heads)  # title + the 12 sections, none injected
            assert heads[-2:] == ["Approvals", "Dependency picture"]
            # the mermaid fence is the only code block with that info string and it stays closed
            fences = [t for t in tokens if t.type == "fence" and t.info == "mermaid"]
            assert len(fences) == 1 and "<" not in fences[0].content
            # checkbox lines come from the template only ("- [x]" in user text stays inert)
            assert not re.search(r"^\s*- \[x\]", md, re.M)


def test_yaml_and_json_round_trip_hostile_text_as_data(tmp_path):
    import jsonschema

    v = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    for fmt, load in (("yaml", yaml.safe_load), ("json", json.loads)):
        paths = pb.export_playbooks(
            hostile_waves(), fmt=fmt, out_dir=tmp_path / fmt, now=NOW, durable=False
        )
        assert len(paths) == 1 + len(HOSTILE)
        for p in paths:
            text = p.read_text()
            assert not BIDI.search(text)
            docs = list(yaml.safe_load_all(text)) if fmt == "yaml" else [load(text)]
            assert len(docs) == 1
            assert not list(v.iter_errors(docs[0])), p.name
        doc = load((tmp_path / fmt / "wave-01-k7.json".replace("json", fmt)).read_text())
        # data stays data: the text is there, cleaned of line breaks, not interpreted
        assert doc["affected"]["api"]["owner"] == "<script>alert(1)</script>"
        doc15 = load((tmp_path / fmt / f"wave-01-k15.{fmt}").read_text())
        assert "\n" not in doc15["notes"] and "## Approvals" in doc15["notes"]


def test_csv_cells_never_start_a_formula(tmp_path):
    [path] = pb.export_playbooks(hostile_waves(), fmt="csv", out_dir=tmp_path, now=NOW)
    raw = path.read_text()
    assert not BIDI.search(raw)
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + len(HOSTILE)
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    owners = [r[4] for r in rows[1:]]
    assert owners[0].startswith("'=HYPERLINK") and owners[2] == "'-2+3"
    assert owners[6] == "'  =leading-space"


def test_csv_cell_rule():
    from workbench.playbook.text import csv_cell

    assert csv_cell("=1") == "'=1" and csv_cell("\t=1") == "' =1"
    assert csv_cell("a=1") == "a=1" and csv_cell("") == "" and csv_cell(None) == ""
    assert csv_cell("x\ny") == "x y" and csv_cell("x\ny", multiline=True) == "x\ny"


CANARY = "sk_live_CANARY0123456789abcdefXYZ"
PLAIN_CANARY = "opensesame-canary-value"


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_secret_objects_are_refused_at_construction():
    secret = SecretValue(CANARY)
    with pytest.raises(PlaybookError) as exc:
        pb.ApiRef("a", "https://x", secret, "prod")  # type: ignore[arg-type]
    assert CANARY not in str(exc.value) and "fingerprint" in str(exc.value)
    with pytest.raises(PlaybookError):
        ticket("a", notes=secret)
    with pytest.raises(PlaybookError):
        pb.Command("send the key", secret)  # type: ignore[arg-type]
    with pytest.raises(PlaybookError) as exc:
        pb.ProbeResult.from_mapping(
            {
                "name": "old-key-only",
                "expected": "refused",
                "observed": "HTTP 401",
                "outcome": "pass",
                "evidence": {"header_value": secret},
            }
        )
    assert CANARY not in str(exc.value)
    with pytest.raises(PlaybookError, match="hex"):
        ticket("a", key_fingerprint=CANARY)


def test_secret_looking_free_text_is_hidden_in_every_format(tmp_path):
    ctx = ticket(
        "a",
        notes=f"old key was {CANARY}",
        reasons=(pb.RiskReason("age", 1.0, f"value {CANARY}"),),
        usage=pb.KeyUsage("log", (pb.ClientUsage(CANARY, 1, None),)),
    )
    for fmt in pb.FORMATS:
        pb.export_playbooks(waves(ctx), fmt=fmt, out_dir=tmp_path / fmt, now=NOW, durable=False)
    data = all_bytes(tmp_path)
    assert b"CANARY0123456789" not in data
    assert b"hidden: looked like a API token" in data


def test_known_old_key_values_anywhere_stop_the_export(tmp_path):
    secret = SecretValue(PLAIN_CANARY)  # low entropy: the pattern scan would not catch it
    leaky = [
        ticket("a", notes=f"ask ops for {PLAIN_CANARY}"),
        ticket("a", commands=pb.default_commands("a", f"/ws/{PLAIN_CANARY}")),
        ticket("a", workspace=f"/tmp/{PLAIN_CANARY}"),
    ]
    for ctx in leaky:
        for fmt in pb.FORMATS:
            out = tmp_path / fmt
            with pytest.raises(PlaybookError) as exc:
                pb.export_playbooks(waves(ctx), fmt=fmt, out_dir=out, now=NOW, secrets=[secret])
            assert PLAIN_CANARY not in str(exc.value)
            assert secret.fingerprint in str(exc.value)
            assert not out.exists()
    # a clean context exports, and no byte holds the value
    for fmt in pb.FORMATS:
        pb.export_playbooks(
            waves(ticket("a")), fmt=fmt, out_dir=tmp_path / fmt, now=NOW, secrets=[secret]
        )
    assert PLAIN_CANARY.encode() not in all_bytes(tmp_path)


def test_unverified_step_says_so_and_carries_no_pass(sample_waves, tmp_path):
    for fmt in ("md", "yaml", "json"):
        files = pb.render_playbooks(sample_waves, fmt=fmt, now=NOW)
        text = files[f"wave-01-ledger-key.{fmt}"]
        assert "NOT VERIFIED" in text and "PASS" not in text, fmt
        failed = files[f"wave-02-search-key.{fmt}"]
        assert "FAIL" in failed and "PASS" not in failed and "HTTP 200" in failed, fmt
        assert "PASS" in files[f"wave-01-payments-key.{fmt}"]
    [path] = pb.export_playbooks(sample_waves, fmt="csv", out_dir=tmp_path, now=NOW)
    with path.open(newline="") as fh:
        rows = {r["external_id"]: r for r in csv.DictReader(fh)}
    assert "PASS" not in json.dumps(rows["wave-01-ledger-key"])
    assert "NOT VERIFIED" in rows["wave-01-ledger-key"]["description"]


def test_inconclusive_verdict_is_not_verified():
    from playbook_support import verdict

    files = pb.render_playbooks(
        waves(ticket("a", verdict=verdict("INCONCLUSIVE"))), fmt="md", now=NOW
    )
    md = files["wave-01-a.md"]
    assert "**INCONCLUSIVE**" in md and "NOT VERIFIED" in md and "PASS" not in md
    assert "connection refused" in md


def test_verdict_from_the_verifier_objects():
    from workbench.verify.classify import Outcome
    from workbench.verify.probe import ProbeEvidence
    from workbench.verify.verdict import ProbeRecord, Verdict

    ev = ProbeEvidence(
        name="old-key-only",
        url="https://127.0.0.1:8443/x",
        ip="127.0.0.1",
        port=8443,
        sni="localhost",
        host_header="localhost",
        identity="old key fp=a1b2c3d4e5f6",
        outcome=Outcome.REFUSED,
        http_status=401,
    )
    v = Verdict(
        "PASS", (ProbeRecord("old-key-only", "refused", "HTTP 401", "pass", ev),), ("ok",), NOW, NOW
    )
    rec = pb.VerdictRecord.from_mapping(v)
    assert rec.verdict == "PASS"
    assert dict(rec.probes[0].evidence)["outcome"] == "REFUSED"
    assert dict(rec.probes[0].evidence)["http_status"] == "401"


def test_mermaid_given_text_used_only_when_inert():
    from workbench.graph.export import mermaid_escape
    from workbench.playbook.mermaid import accept_mermaid, step_mermaid

    good = (
        "flowchart LR\n"
        f'  n0["{mermaid_escape("checkout <svc> #1")}"]\n'
        '  n1(["payments-key"])\n  n2{{"payments"}}\n'
        '  n0 -->|"uses"| n1\n  n1 --> n2\n  %% a comment'
    )
    assert accept_mermaid(good) == good
    for bad in (
        'flowchart LR\n  n0["a"]\n  click n0 "javascript:alert(1)"',
        '%%{init: {"securityLevel": "loose"}}%%\nflowchart LR\n  n0["a"]',
        'flowchart LR\n  n0["<img src=x onerror=alert(1)>"]',
        'flowchart LR\n  n0["a"]\n```\n<script>alert(1)</script>',
        'flowchart LR\n  n0["a`b"]',
        'n0["no header"]',
    ):
        assert accept_mermaid(bad) is None, bad
        text, source = step_mermaid(ticket("a", mermaid=bad))
        assert source.startswith("derived (") and "`" not in text and "<" not in text
    derived = pb.derive_mermaid(
        ticket("a", consumers=(pb.ConsumerRef('x"]\n```<script>', "o", "prod"),))
    )
    assert derived.count("\n") == 4 and '"' not in derived.split("\n")[1][6:-10]
    assert "<" not in derived and "`" not in derived


def test_model_validation():
    with pytest.raises(PlaybookError, match="timezone-aware"):
        pb.Schedule(datetime(2026, 1, 1), 3)
    with pytest.raises(PlaybookError, match="overlap_days"):
        pb.Schedule(datetime(2026, 1, 1, tzinfo=UTC), -1)
    with pytest.raises(PlaybookError, match="sha256"):
        pb.CertificateRef("s", "01", "xyz", datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(PlaybookError, match="verdict must be one of"):
        pb.VerdictRecord("PASSED", (), (), NOW, NOW)
    with pytest.raises(PlaybookError, match="expected"):
        pb.ProbeSpec("p", "maybe", "d")
    with pytest.raises(PlaybookError, match="a list"):
        pb.ApiRef("a", "u", "o", "prod", "pci")  # type: ignore[arg-type]
    api = pb.ApiRef("a", "u", "o", "prod", ["pci"])  # type: ignore[arg-type]
    assert api.data_classes == ("pci",)
    cmds = pb.default_commands("k1", "/path with space")
    assert cmds.change[0].command == "workbench cutover --workspace '/path with space' --step k1"
