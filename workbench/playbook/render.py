"""Render ticket/wave documents to text: Markdown (jinja2), YAML, JSON, CSV. No file I/O
except reading templates.

Markdown templates live in the top-level ``playbooks/`` folder of a checkout (the copy teams
adapt); the same files ship inside the package under ``workbench/playbook/templates/`` so an
installed wheel works too (a test keeps the two copies identical). ``templates_dir`` wins,
then ``playbooks/`` next to the package, then the package copy.

The jinja2 environment is sandboxed (a team's template cannot reach Python internals) and its
``finalize`` hook Markdown-escapes every ``{{ value }}``, so a template that forgets a filter
is still safe; only this module's filters (``code``, ``codeblock``, ``link``) emit markup.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import PlaybookError
from workbench.playbook.text import MdSafe, csv_cell, md_code, md_code_block, md_escape

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "TEMPLATE_NAMES",
    "csv_rows",
    "default_templates_dir",
    "md_environment",
    "render_csv",
    "render_data",
    "render_md",
    "ticket_schema",
]

FORMATS = ("md", "yaml", "json", "csv")
TEMPLATE_NAMES = ("ticket.md.j2", "wave.md.j2")
CSV_COLUMNS = ("summary", "description", "priority", "labels", "owner", "due_date", "external_id")
_LINK_TARGET = re.compile(r"[a-z0-9][a-z0-9._-]{0,120}\.(?:md|yaml|json|csv)")


def default_templates_dir() -> Path:
    """``playbooks/`` of the checkout when present, else the copy shipped in the package."""
    repo = Path(__file__).resolve().parents[2] / "playbooks"
    if all((repo / n).is_file() for n in TEMPLATE_NAMES):
        return repo
    return Path(str(resources.files("workbench.playbook") / "templates"))


def ticket_schema() -> dict[str, Any]:
    """The JSON Schema of ``workbench.playbook/v2`` documents (tickets and wave summaries)."""
    for folder in (
        default_templates_dir(),
        Path(str(resources.files("workbench.playbook") / "templates")),
    ):
        path = folder / "schema" / "ticket.v2.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise PlaybookError("schema/ticket.v2.json is missing from the playbook templates")


def _finalize(value: Any) -> str:
    if isinstance(value, MdSafe):
        return value
    return md_escape("" if value is None else value)


def _link(text: Any, target: str) -> MdSafe:
    """A link to a relative file in the same folder; anything else is plain escaped text."""
    if not isinstance(target, str) or not _LINK_TARGET.fullmatch(target):
        return MdSafe(md_escape(text))
    return MdSafe(f"[{md_escape(text)}]({target})")


def md_environment(templates_dir: Path | None = None) -> Any:
    """The sandboxed jinja2 environment for Markdown templates."""
    import jinja2  # heavy; only when Markdown is exported
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    folder = Path(templates_dir) if templates_dir is not None else default_templates_dir()
    if not folder.is_dir():
        raise PlaybookError(f"templates folder {folder} does not exist; copy playbooks/ there")
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=False,  # HTML escaping is wrong for Markdown; finalize escapes instead
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["code"] = md_code
    env.filters["codeblock"] = lambda v, lang="", indent=0: md_code_block(v, lang, indent)
    env.filters["link"] = _link
    return env


def render_md(env: Any, name: str, **context: Any) -> str:
    """Render one template; template problems become a one-line PlaybookError."""
    import jinja2

    try:
        text = env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise PlaybookError(
            f"template {name} not found in the templates folder; copy it from playbooks/"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise PlaybookError(f"{exc.filename or name}:{exc.lineno}:1: {exc.message}") from None
    except jinja2.TemplateError as exc:
        # UndefinedError, SecurityError ...: name the template, not the data.
        raise PlaybookError(f"{name}: {type(exc).__name__}: {exc.message}") from None
    return _tidy(text)


def _tidy(text: str) -> str:
    """At most one blank line in a row, one newline at the end."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def render_data(doc: dict[str, Any], fmt: str) -> str:
    """YAML or JSON through the serialisers (never string-built)."""
    try:
        if fmt == "yaml":
            return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        if fmt == "json":
            return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    except (TypeError, ValueError, yaml.YAMLError) as exc:
        raise PlaybookError(f"cannot serialise {doc.get('id')}: {type(exc).__name__}") from None
    raise PlaybookError(f"unknown data format {fmt!r}; use yaml or json")


def _description(t: dict[str, Any], ticket_file: str | None) -> str:
    api = t["affected"]["api"]
    lines = [
        t["summary"],
        "",
        f"Evidence: {t['evidence']['statement']}",
        f"Risk score {t['risk']['score']} ({t['risk']['priority']}):",
        *(f"* {r['factor']} +{r['contribution']}: {r['detail']}" for r in t["risk"]["reasons"]),
        f"API: {api['id']} ({api['environment']}, owner {api['owner']}) {api['url']}",
        *(
            f"* service {s['service']} (owner {s['owner']}, {s['exposure']})"
            for s in t["affected"]["services"]
        ),
        f"Planned start {t['schedule']['planned_start']}, overlap "
        f"{t['schedule']['overlap_days']} day(s), cut-over due {t['schedule']['cutover_due']}",
        f"Gateway mode now: {t['prechecks']['gateway_mode']} (dual expected)",
        "Change: " + " ; ".join(c["command"] for c in t["change"]["steps"]),
        "Verify: " + " ; ".join(c["command"] for c in t["verification"]["commands"]),
        "Rollback: " + " ; ".join(c["command"] for c in t["rollback"]["steps"]),
    ]
    head = t["evidence"].get("audit_head")
    if head:
        lines.append(
            f"Audit chain head at export: {head['anchor']} "
            "(check: workbench audit verify --anchor SEQ:HASH)"
        )
    if ticket_file:
        lines.append(f"Playbook (Markdown export): {ticket_file}")
    return "\n".join(lines)


def _label(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")[:60] or "none"


def csv_rows(
    tickets: Sequence[dict[str, Any]], ticket_files: Sequence[str | None] = ()
) -> list[dict[str, str]]:
    """One import row per ticket (cells not yet neutralised)."""
    rows = []
    files = list(ticket_files) + [None] * (len(tickets) - len(ticket_files))
    for t, f in zip(tickets, files, strict=True):
        api = t["affected"]["api"]
        labels = [
            "workbench",
            "mtls-migration",
            f"wave-{t['step']['wave']}",
            f"api-{_label(api['id'])}",
            f"env-{_label(api['environment'])}",
            f"evidence-{_label(t['evidence']['status'])}",
            *(_label(x) for x in t.get("labels", ())),
        ]
        rows.append(
            {
                "summary": t["title"],
                "description": _description(t, f),
                "priority": t["risk"]["priority"],
                "labels": " ".join(dict.fromkeys(labels)),
                "owner": api["owner"],
                "due_date": (t["schedule"]["cutover_due"] or "")[:10],
                "external_id": t["id"],
            }
        )
    return rows


def render_csv(rows: Sequence[dict[str, str]]) -> str:
    """CSV text (RFC 4180 quoting) with every cell neutralised against formula injection."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: csv_cell(row.get(k), multiline=(k == "description")) for k in CSV_COLUMNS})
    return buf.getvalue()
