"""Region 3: the evidence of the selected step's latest verdict."""

from __future__ import annotations

from textual.containers import Vertical
from textual.widgets import DataTable, Static

from workbench.states import Verdict
from workbench.tui.snapshot import Evidence

COLUMNS = ("probe", "outcome", "expected", "observed", "IP", "TLS", "ms")
"""The outcome early: at 80 columns the table scrolls sideways after ``observed``."""
VERDICT_CLASSES = ("verdict-pass", "verdict-fail", "verdict-other")


class EvidenceView(Vertical):
    """Probe by probe: expected, observed, outcome, pinned IP, TLS version, time."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.evidence: Evidence | None = None

    def compose(self):
        yield Static("no step selected", id="evidence-head")
        yield DataTable(id="evidence-probes", cursor_type="row", zebra_stripes=True)
        yield Static("", id="evidence-reasons")

    def on_mount(self) -> None:
        self.query_one("#evidence-probes", DataTable).add_columns(*COLUMNS)

    def show(self, step: str | None, evidence: Evidence | None) -> None:
        self.evidence = evidence
        head = self.query_one("#evidence-head", Static)
        table = self.query_one("#evidence-probes", DataTable)
        reasons = self.query_one("#evidence-reasons", Static)
        table.clear()
        head.remove_class(*VERDICT_CLASSES)
        if evidence is None:
            head.update(f"{step}: no recorded verification yet" if step else "no step selected")
            reasons.update("")
            return
        kind = {Verdict.PASS: "verdict-pass", Verdict.FAIL: "verdict-fail"}.get(evidence.verdict)
        head.add_class(kind or "verdict-other")
        head.update(
            f"{evidence.step}: {evidence.verdict}  {evidence.url}\n"
            f"started {evidence.started}  old key fingerprint {evidence.old_key_fingerprint}"
        )
        for p in evidence.probes:
            table.add_row(
                p.name,
                p.outcome,
                p.expected,
                p.observed,
                p.ip or "-",
                p.tls_version or "-",
                "-" if p.elapsed_ms is None else f"{p.elapsed_ms:.1f}",
            )
        reasons.update("\n".join(f"- {r}" for r in evidence.reasons))
