"""The program report as files a person can attach to a mail: Markdown or HTML, SVG, JSON.

One document model (sections of sentences, tables and pictures) rendered two ways, so the
Markdown and the HTML always say the same. User text is escaped for each format
(security requirement 22): Markdown through the playbooks' escaper, HTML through
``html.escape``; pictures are local SVG files next to the document, never remote.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.jsonable import to_jsonable
from workbench.playbook.text import md_escape
from workbench.report.program import OPEN_FINDING_CODES, ProgramReport

__all__ = ["FORMATS", "Section", "markdown_table", "render", "report_sections", "write_report"]

FORMATS = ("md", "html")


@dataclass(frozen=True)
class Section:
    title: str
    sentences: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[object, ...], ...] = ()
    picture: str | None = None
    """Name of a chart (``<name>.svg`` next to the document)."""
    empty: str = "none"
    """What the table says when it has no rows."""


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report_sections(report: ProgramReport) -> list[Section]:
    """The report's content, format-free."""
    f = report.figures()
    apis, keys, ints = f["apis"], f["keys"], f["integrations"]
    days = f["discovery_to_retirement_days"]
    sections = [
        Section(
            "Sender-constrained",
            (
                f"APIs sender-constrained (mtls, mtls+token): {apis['sender_constrained']} of "
                f"{apis['total']} ({_pct(apis['sender_constrained'], apis['total'])}).",
                f"Keys retired (their consumers on certificates): {keys['retired']} of "
                f"{keys['total']} ({_pct(keys['retired'], keys['total'])}); "
                f"{keys['remaining']} static keys still accepted.",
                f"Integrations on certificates: {ints['on_certificates']} of {ints['total']} "
                f"({_pct(ints['on_certificates'], ints['total'])}).",
            ),
            ("mode", "APIs", "keys"),
            tuple((m, apis["by_mode"][m], keys["by_mode"][m]) for m in apis["by_mode"]),
            picture="sender-constrained",
        ),
        Section(
            "Static keys by data class",
            ("A key counts in every data class of the API it opens.",),
            ("data class", "retired", "remaining"),
            tuple((r.data_class, r.retired, r.remaining) for r in report.by_data_class),
            picture="data-classes",
            empty="no keys",
        ),
        Section(
            "From discovery to retirement",
            (
                f"Keys retired: {days['retired']}; median {_days(days['median'])} days, "
                f"longest {_days(days['max'])} days from discovery to retirement.",
            ),
            ("key", "API", "discovered", "retired", "days"),
            tuple(
                (
                    r.key,
                    r.api,
                    f"{r.discovered_at:%Y-%m-%d %H:%M}Z",
                    f"{r.retired_at:%Y-%m-%d %H:%M}Z" if r.retired_at else "still accepted",
                    _days(r.days),
                )
                for r in report.retirements
            ),
            picture="discovery-to-retirement",
            empty="no keys",
        ),
        Section(
            f"Certificates expiring within {report.expiry_window_days:g} days",
            (f"{len(report.expiring)} active client certificate(s).",),
            ("service", "step", "serial", "expires", "days left"),
            tuple(
                (
                    c.service,
                    c.step or "-",
                    c.serial[:16],
                    f"{c.not_after:%Y-%m-%d %H:%M}Z",
                    f"{c.days_left:.1f}",
                )
                for c in report.expiring
            ),  # fmt: skip
            picture="certificates-expiring",
        ),
        Section(
            "Bound tokens a renewal would break",
            (
                (
                    f"{len(report.bound_tokens_at_risk)} live RFC 8705 token(s) are bound to a "
                    "current certificate: renewing it makes them fail (x5t#S256 changes)."
                )
                if report.tokens_known
                else "Unknown: the token server's record could not be read.",
            ),
            ("service", "step", "token (fingerprint)", "jti", "valid until"),
            tuple(
                (t.service, t.step or "-", t.token_fp, t.jti, f"{t.expires:%Y-%m-%d %H:%M}Z")
                for t in report.bound_tokens_at_risk
            ),
        ),
        Section(
            "Findings still open",
            tuple(f"{kind}: {f['open_findings'][kind]}" for kind in OPEN_FINDING_CODES.values()),
            ("kind", "key", "severity", "finding"),
            tuple((o.kind, o.key, o.severity, o.message) for o in report.open_findings),
        ),
    ]
    d = report.drills
    if not d.any:
        sections.append(
            Section(
                "Revocation drills (time to refusal)",
                (
                    "No drill yet: run a revocation drill to measure how fast a revoked "
                    "credential is refused at every entry point.",
                ),  # fmt: skip
                picture="revocation-drills",
            )
        )
    else:
        sections.append(
            Section(
                "Revocation drills (time to refusal)",
                (
                    f"{d.drills} drill(s), {d.passed} PASS; latest: {d.last_kind or '?'} "
                    f"{d.last_verdict or '?'}"
                    + (f" at {d.last_at:%Y-%m-%d %H:%M}Z." if d.last_at else "."),
                    "Time to refusal: from the revocation to a stable refusal at an entry point.",
                ),
                (
                    "gateway",
                    "drills",
                    "entry points",
                    "median s (latest)",
                    "worst s (any drill)",
                    "never refused (latest)",
                ),
                tuple(
                    (
                        g.gateway,
                        g.drills,
                        g.entry_points,
                        _secs(g.median_s),
                        _secs(g.worst_s),
                        g.never_refused,
                    )
                    for g in d.gateways
                ),
                picture="revocation-drills",
            )
        )
    if report.notes:
        sections.append(Section("Notes", report.notes))
    return sections


def markdown_table(headers: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table whose cells are inert text (no markup, link or HTML survives)."""
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += [
        "| " + " | ".join(md_escape("" if c is None else c) for c in row) + " |" for row in rows
    ]
    return "\n".join(out)


def _md(report: ProgramReport, sections: list[Section]) -> str:
    out = [
        "# Program report: the move off static API keys",
        "",
        md_escape(
            f"Workspace {report.workspace}, trust domain {report.trust_domain}, "
            f"generated {report.generated_at:%Y-%m-%d %H:%M}Z."
        ),  # fmt: skip
    ]
    for s in sections:
        out += ["", f"## {md_escape(s.title)}", ""]
        out += [f"- {md_escape(line)}" for line in s.sentences]
        if s.picture:
            out += ["", f"![{md_escape(s.title)}]({s.picture}.svg)"]
        if s.headers:
            out += [""]
            if s.rows:
                out.append(markdown_table(s.headers, s.rows))
            else:
                out.append(md_escape(f"({s.empty})"))
    return "\n".join(out) + "\n"


def _html(report: ProgramReport, sections: list[Section]) -> str:
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Program report</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
        "img{max-width:100%}</style></head><body>",
        "<h1>Program report: the move off static API keys</h1>",
        f"<p>{e(f'Workspace {report.workspace}, trust domain {report.trust_domain}, ')}"
        f"{e(f'generated {report.generated_at:%Y-%m-%d %H:%M}Z.')}</p>",
    ]
    for s in sections:
        out.append(f"<h2>{e(s.title)}</h2>")
        if s.sentences:
            out.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in s.sentences) + "</ul>")
        if s.picture:
            out.append(f'<p><img src="{e(s.picture)}.svg" alt="{e(s.title)}"></p>')
        if s.headers:
            if not s.rows:
                out.append(f"<p>({e(s.empty)})</p>")
                continue
            out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in s.headers) + "</tr>")
            for row in s.rows:
                out.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(report: ProgramReport, fmt: str = "md") -> str:
    """The report document in ``md`` or ``html``."""
    sections = report_sections(report)
    return _html(report, sections) if fmt == "html" else _md(report, sections)


def write_report(report: ProgramReport, out_dir: str | Path, fmt: str = "md") -> list[Path]:
    """Write ``report.<fmt>``, ``figures.json`` and one SVG per chart; return the paths."""
    from workbench.errors import InputError
    from workbench.inventory import write_text_atomic
    from workbench.report.charts import program_charts, save_svg
    from workbench.workspace.atomic import atomic_write

    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory; pick another -o")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in program_charts(report).items():
        buffer = io.BytesIO()
        save_svg(fig, buffer)
        written.append(atomic_write(out / f"{name}.svg", buffer.getvalue(), mode=0o644))
    figures = out / "figures.json"
    write_text_atomic(figures, json.dumps(to_jsonable(report.figures()), indent=2) + "\n")
    doc = out / f"report.{fmt}"
    write_text_atomic(doc, render(report, fmt))
    return [doc, figures, *written]
