"""How the CLI prints a verdict: the probe summary of ``verify``/``cutover`` and the evidence
table of ``evidence``. Everything is read through :class:`~workbench.verify.VerdictReading`,
the read model the TUI, the review and the tickets share; ``--json`` prints the document."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.cli._common import print_table

if TYPE_CHECKING:
    from workbench.verify.reading import VerdictReading

__all__ = ["print_evidence", "print_step_verdict", "print_summary", "summary_rows"]


def summary_rows(verdict: VerdictReading) -> list[tuple]:
    """One row per probe shape (name, key form, method, path): how many passed, and what was
    observed, so a 200-probe run stays readable. ``--json`` keeps every probe."""
    from urllib.parse import urlsplit

    groups: dict[tuple, dict] = {}
    for p in verdict.probes:
        ev = p.evidence
        path = urlsplit(ev.get("url", "")).path or "-"
        key = (p.name, ev.get("form") or "-", ev.get("method", "GET"), path, p.expected)
        g = groups.setdefault(key, {"n": 0, "ok": 0, "seen": {}})
        g["n"] += 1
        g["ok"] += p.outcome == "pass"
        g["seen"][p.observed] = g["seen"].get(p.observed, 0) + 1
    rows = []
    for (name, form, method, path, expected), g in groups.items():
        seen = ", ".join(f"{o} x{n}" if n > 1 else o for o, n in g["seen"].items())
        outcome = "pass" if g["ok"] == g["n"] else f"{g['n'] - g['ok']}/{g['n']} not pass"
        rows.append((name, form, f"{method} {path}", expected, seen, outcome))
    return rows


def print_summary(verdict: VerdictReading, *, title: str) -> None:
    """The probe summary table, the reasons, the scope and what the run relies on."""
    print_table(
        ("probe", "key form", "request", "expected", "observed", "outcome"),
        summary_rows(verdict),
        title=title,
    )
    for reason in verdict.reasons:
        print(f"  - {reason}")
    if verdict.scope.get("text"):
        print(f"  scope: {verdict.scope['text']}")
    if verdict.liveness.get("how"):
        print(f"  old key: {verdict.liveness['how']}")


def print_step_verdict(verdict: VerdictReading, step: str, state: str) -> None:
    """A workspace step's verdict, and the state it left the step in."""
    print_summary(verdict, title=f"{step}: {verdict.url}")
    print(f"verdict: {verdict.verdict} (step {step} is now {state})")


def print_evidence(verdict: VerdictReading, step: str) -> None:
    """What one recorded run saw, probe by probe (``workbench evidence``)."""
    rows = [
        (
            p.name,
            p.outcome,
            p.answer,
            p.ip,
            p.sni or "-",
            p.tls_version or "-",
            p.elapsed_ms,
            p.identity,
        )
        for p in verdict.probes
    ]
    print_table(
        ("probe", "outcome", "answer", "ip", "sni", "tls", "ms", "identity"),
        rows,
        title=f"{step}: run {verdict.id} {verdict.started} -> {verdict.verdict} "
        f"({verdict.url}, old key fp {verdict.old_key_fingerprint})",
    )
