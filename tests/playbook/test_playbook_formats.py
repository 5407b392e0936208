"""Structure of every export format, templates, atomicity and file naming."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from markdown_it import MarkdownIt
from playbook_support import NOW, REPO, SCHEMA_PATH, ticket, waves

import workbench.playbook as pb
from workbench.errors import PlaybookError

REQUIRED_SECTIONS = [
    "Summary",
    "Risk",
    "Affected APIs, services and owners",
    "Schedule",
    "Pre-checks",
    "Change",
    "Verification",
    "Rollback",
    "Rollback verification",
    "Evidence",
    "Approvals",
    "Dependency picture",
]


def headings(md: str) -> list[tuple[int, str]]:
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            out.append((int(tok.tag[1]), tokens[i + 1].content))
    return out


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_markdown_tickets_have_required_sections_in_order(tmp_path, sample_waves):
    paths = pb.export_playbooks(sample_waves, fmt="md", out_dir=tmp_path, now=NOW, durable=False)
    names = sorted(p.name for p in paths)
    assert names == [
        "wave-01-ledger-key.md",
        "wave-01-payments-key.md",
        "wave-01.md",
        "wave-02-search-key.md",
        "wave-02.md",
    ]
    for p in paths:
        if p.stem.count("-") < 2:
            continue
        hs = headings(p.read_text())
        assert hs[0][0] == 1 and "mTLS client certificates" in hs[0][1]
        assert [h for _, h in hs[1:]] == REQUIRED_SECTIONS, p.name
    wave = (tmp_path / "wave-01.md").read_text()
    html = MarkdownIt("commonmark").enable("table").render(wave)
    # the summary links to its tickets, relative files only
    assert 'href="wave-01-payments-key.md"' in html and 'href="wave-01-ledger-key.md"' in html


def test_ticket_markdown_content(sample_waves):
    files = pb.render_playbooks(sample_waves, fmt="md", now=NOW)
    md = files["wave-01-payments-key.md"]
    for needed in (
        "workbench cutover --workspace /ws --step payments-key",
        "workbench verify --workspace /ws --step payments-key",
        "workbench gateway set-mode --workspace /ws --step payments-key dual",
        "`/ws/render/checkout/nginx.conf`",
        "`4f3a9c`",
        "ab" * 32,
        "0f" * 32,
        "10\\.0\\.0\\.7: 1200 request(s), last seen 2026\\-11\\-22T23\\:59\\:00Z",
        "| change manager |",
        "| security |",
        "```mermaid",
        "**P1**",
        "a1b2c3d4e5f6",
    ):
        assert needed in md, needed
    ledger = files["wave-01-ledger-key.md"]
    assert "Gateway is in `key-only` mode, not `dual`" in ledger
    assert "**no usage data yet**" in ledger


def test_yaml_and_json_validate_against_the_schema(tmp_path, sample_waves):
    v = validator()
    for fmt, load in (("yaml", yaml.safe_load), ("json", json.loads)):
        out = tmp_path / fmt
        paths = pb.export_playbooks(sample_waves, fmt=fmt, out_dir=out, now=NOW, durable=False)
        assert len(paths) == 5
        kinds = set()
        for p in paths:
            doc = load(p.read_text())
            errors = [e.message for e in v.iter_errors(doc)]
            assert not errors, (p.name, errors)
            assert doc["schema"] == "workbench.playbook/v2"
            kinds.add(doc["kind"])
        assert kinds == {"ticket", "wave"}
    doc = json.loads((tmp_path / "json" / "wave-02-search-key.json").read_text())
    assert doc["evidence"]["status"] == "FAIL" and doc["risk"]["priority"] == "P3"
    assert doc["evidence"]["verdict"]["probes"][1]["observed"] == "HTTP 200"


def test_schema_rejects_a_document_that_breaks_the_contract(sample_waves):
    v = validator()
    doc = pb.ticket_document(sample_waves[0].tickets[0], now=NOW)
    assert not list(v.iter_errors(doc))
    for mutate in (
        lambda d: d.update(schema="workbench.playbook/v1"),
        lambda d: d["evidence"].update(audit_head={"seq": 1, "hash": "zz", "anchor": "1:zz"}),
        lambda d: d["step"].update(key_fingerprint="not-hex"),
        lambda d: d["evidence"].update(status="PASSED"),
        lambda d: d.update(secret="x"),
    ):
        bad = json.loads(json.dumps(doc))
        mutate(bad)
        assert list(v.iter_errors(bad))


def test_csv_reads_back_one_row_per_ticket(tmp_path, sample_waves):
    [path] = pb.export_playbooks(sample_waves, fmt="csv", out_dir=tmp_path, now=NOW, durable=False)
    assert path.name == "tickets.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["external_id"] for r in rows] == [
        "wave-01-payments-key",
        "wave-01-ledger-key",
        "wave-02-search-key",
    ]
    first = rows[0]
    assert list(first) == list(pb.render.CSV_COLUMNS)
    assert first["priority"] == "P1" and rows[2]["priority"] == "P3"
    assert first["due_date"] == "2026-12-15"
    assert first["owner"] == "team-payments"
    assert "wave-1" in first["labels"].split() and "evidence-pass" in first["labels"].split()
    assert "workbench cutover --workspace /ws --step payments-key" in first["description"]
    assert "\n" in first["description"]


@pytest.mark.parametrize(
    ("score", "priority"),
    [(100, "P1"), (75, "P1"), (74.99, "P2"), (50, "P2"), (25, "P3"), (0, "P4")],
)
def test_priority_thresholds(score, priority):
    assert pb.priority_for(score) == priority


def test_shipped_template_copies_are_identical():
    pkg = REPO / "workbench" / "playbook" / "templates"
    for rel in ("ticket.md.j2", "wave.md.j2", "schema/ticket.v2.json"):
        assert (REPO / "playbooks" / rel).read_bytes() == (pkg / rel).read_bytes(), rel
    assert pb.default_templates_dir() == REPO / "playbooks"
    assert pb.ticket_schema() == json.loads(SCHEMA_PATH.read_text())


def test_templates_override_is_used(tmp_path, sample_waves):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "ticket.md.j2").write_text(
        "# ACME CHANGE {{ t.id }}\n\nOwner: {{ t.affected.api.owner }}\n"
    )
    (tpl / "wave.md.j2").write_text("# ACME WAVE {{ w.number }}\n")
    files = pb.render_playbooks(sample_waves, fmt="md", now=NOW, templates_dir=tpl)
    assert files["wave-01-payments-key.md"].startswith("# ACME CHANGE wave\\-01\\-payments\\-key")
    assert files["wave-02.md"] == "# ACME WAVE 2\n"


def test_broken_or_hostile_template_is_a_one_line_error(tmp_path, sample_waves):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "wave.md.j2").write_text("ok\n")
    (tpl / "ticket.md.j2").write_text("line\n{% for x in %}\n")
    with pytest.raises(PlaybookError, match=r"ticket\.md\.j2:2:1: "):
        pb.render_playbooks(sample_waves, fmt="md", now=NOW, templates_dir=tpl)
    # the sandbox refuses Python internals
    (tpl / "ticket.md.j2").write_text("{{ t.__class__.__mro__ }}\n")
    with pytest.raises(PlaybookError) as exc:
        pb.render_playbooks(sample_waves, fmt="md", now=NOW, templates_dir=tpl)
    assert "\n" not in str(exc.value)
    with pytest.raises(PlaybookError, match="does not exist"):
        pb.render_playbooks(sample_waves, fmt="md", now=NOW, templates_dir=tmp_path / "nope")


def test_failing_render_writes_nothing(tmp_path, sample_waves):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "ticket.md.j2").write_text("# {{ t.title }}\n")
    # the wave template fails after every ticket of wave 1 rendered fine
    (tpl / "wave.md.j2").write_text("{{ w.no_such_field }}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "wave-01-payments-key.md").write_text("previous export\n")
    with pytest.raises(PlaybookError):
        pb.export_playbooks(sample_waves, fmt="md", out_dir=out, now=NOW, templates_dir=tpl)
    assert sorted(os.listdir(out)) == ["wave-01-payments-key.md"]
    assert (out / "wave-01-payments-key.md").read_text() == "previous export\n"


def test_write_failure_half_way_leaves_no_target_and_no_temp(tmp_path, sample_waves, monkeypatch):
    from workbench import fsio

    real = fsio._write_temp
    calls = []

    def flaky(path, data, mode, *, fsync):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(path, data, mode, fsync=fsync)

    monkeypatch.setattr(fsio, "_write_temp", flaky)
    with pytest.raises(OSError):
        pb.export_playbooks(sample_waves, fmt="json", out_dir=tmp_path, now=NOW, durable=False)
    assert os.listdir(tmp_path) == []


def test_rewrite_replaces_files_atomically(tmp_path, sample_waves):
    first = pb.export_playbooks(sample_waves, fmt="json", out_dir=tmp_path, now=NOW)
    again = pb.export_playbooks(sample_waves, fmt="json", out_dir=tmp_path, now=NOW)
    assert first == again
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in first)
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in first)


@pytest.mark.parametrize(
    "bad_key",
    [
        "../etc/passwd",
        "/abs",
        "UPPER",
        "a\x00b",
        "key\u202egpj.md",
        "k\u0435y",
        "a/b",
        "",
        "..",
        "x\n",
    ],
)
def test_unsafe_step_keys_are_refused_before_anything_is_written(tmp_path, bad_key):
    ctx = ticket(bad_key)
    with pytest.raises(PlaybookError, match="cannot name a file") as exc:
        pb.export_playbooks(waves(ctx), fmt="md", out_dir=tmp_path / "o", now=NOW)
    msg = str(exc.value)
    assert msg.isascii() and "\n" not in msg and "\x00" not in msg  # hostile id shown escaped
    assert not (tmp_path / "o").exists()


def test_duplicate_steps_wrong_wave_and_bad_format_are_refused(tmp_path):
    with pytest.raises(PlaybookError, match="twice"):
        pb.render_playbooks(waves(ticket("a"), ticket("a")), fmt="md", now=NOW)
    with pytest.raises(PlaybookError, match="listed in wave 1"):
        pb.render_playbooks([pb.WaveContext(1, (ticket("a", wave=2),))], fmt="md", now=NOW)
    with pytest.raises(PlaybookError, match="unknown playbook format"):
        pb.render_playbooks(waves(ticket("a")), fmt="html", now=NOW)
    with pytest.raises(PlaybookError, match="symlink"):
        target = tmp_path / "real"
        target.mkdir()
        (tmp_path / "link").symlink_to(target)
        pb.export_playbooks(waves(ticket("a")), fmt="md", out_dir=tmp_path / "link", now=NOW)


def test_planted_symlink_at_a_target_file_is_refused(tmp_path, sample_waves):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "wave-01.json").symlink_to(victim)
    with pytest.raises(Exception, match="symlink"):
        pb.export_playbooks(sample_waves, fmt="json", out_dir=out, now=NOW, durable=False)
    assert victim.read_text() == "keep\n"
    assert sorted(os.listdir(out)) == ["wave-01.json"]


def test_playbook_package_imports_no_ui():
    import subprocess
    import sys

    code = (
        "import sys, workbench.playbook as p\n"
        "print(sorted(m for m in ('textual', 'rich', 'click', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_documents_are_deterministic_for_a_given_now(sample_waves):
    a = pb.render_playbooks(sample_waves, fmt="yaml", now=NOW)
    b = pb.render_playbooks(sample_waves, fmt="yaml", now=NOW)
    assert a == b
    assert Path("wave-01.yaml").name in a
