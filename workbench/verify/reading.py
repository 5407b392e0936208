"""The typed read model of a verdict document: the one way a stored verdict is read back.

:func:`workbench.verify.report.verdict_document` writes the document (``--json`` prints it,
the workspace stores it as a verdict's evidence); the CLI's tables, the TUI's evidence view,
the cut-over review and the change tickets read it through :class:`VerdictReading`. Reading
is tolerant: a document of an older or hand-edited shape gives empty fields, never an
exception, and the document itself stays available unchanged (:attr:`VerdictReading.document`)
for the outputs that print it whole. Pure: no I/O, imports nothing of the probe engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from workbench.states import Verdict

__all__ = ["ProbeReading", "VerdictReading"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def _mapping(value: Any) -> Mapping[str, Any]:
    return MappingProxyType(value) if isinstance(value, dict) else _EMPTY


def _text(value: Any, default: str) -> str:
    return str(value) if value else default


def _verdict(value: Any) -> Verdict | str:
    """A verdict name as its member; any other text (an older or hand-edited document) as
    read, so reading stays tolerant and tables show what was there."""
    text = _text(value, "?")
    try:
        return Verdict(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class ProbeReading:
    """One probe of a verdict document, as judged."""

    name: str
    """Probe name (``positive-control``, ``old-key-only`` ...); ``?`` when the document has none."""
    expected: str
    """``accepted`` or ``refused`` (``?`` when missing)."""
    observed: str
    """What came back, e.g. ``HTTP 401`` (empty when missing)."""
    outcome: str
    """``pass``, ``fail`` or ``inconclusive`` (``?`` when missing)."""
    evidence: Mapping[str, Any] = field(default_factory=_empty)
    """The raw observation, read only: URL, IP, SNI, TLS version, status, timing, identity
    (the old key by fingerprint only)."""

    @classmethod
    def from_document(cls, probe: Any) -> ProbeReading | None:
        """One entry of a document's ``probes``; None for an entry that is not an object."""
        if not isinstance(probe, dict):
            return None
        evidence = _mapping(probe.get("evidence"))
        return cls(
            name=_text(probe.get("name") or evidence.get("name"), "?"),
            expected=_text(probe.get("expected"), "?"),
            observed=_text(probe.get("observed"), ""),
            outcome=_text(probe.get("outcome"), "?"),
            evidence=evidence,
        )

    @property
    def url(self) -> str | None:
        """The URL this probe requested."""
        return self.evidence.get("url")

    @property
    def ip(self) -> str | None:
        """The address it was pinned to."""
        return self.evidence.get("ip")

    @property
    def sni(self) -> str | None:
        """The TLS server name it sent."""
        return self.evidence.get("sni")

    @property
    def tls_version(self) -> str | None:
        """The negotiated TLS version, if the handshake finished."""
        return self.evidence.get("tls_version")

    @property
    def elapsed_ms(self) -> float | None:
        """How long the probe took."""
        return self.evidence.get("elapsed_ms")

    @property
    def identity(self) -> str | None:
        """The credential presented (certificate subject, or the key's fingerprint)."""
        return self.evidence.get("identity")

    @property
    def answer(self) -> Any:
        """The decisive part of the answer: HTTP status, else TLS alert, else error reason."""
        ev = self.evidence
        return ev.get("http_status") or ev.get("tls_alert") or ev.get("error_reason") or "-"


@dataclass(frozen=True)
class VerdictReading:
    """A verdict document, typed. Built with :meth:`from_document` (a document alone, e.g.
    fresh from the verifier) or :meth:`from_row` (a verdict recorded in the workspace, whose
    row adds the step, id, fingerprint and recording time)."""

    verdict: Verdict | str
    """PASS, FAIL, INCONCLUSIVE or ERROR; ``?`` or the text as read when the document
    names no verdict the workbench knows."""
    url: str
    """The URL probed (``?`` when the document has none)."""
    started: str
    """When the run started, ISO 8601 text as recorded (``?`` when missing)."""
    finished: str
    """When it finished, as recorded (``?`` when missing)."""
    probes: tuple[ProbeReading, ...]
    """Every probe in run order."""
    reasons: tuple[str, ...]
    """Why, in sentences."""
    scope: Mapping[str, Any] = field(default_factory=_empty)
    """What the run covered (``text``, ``entry_points`` ...)."""
    liveness: Mapping[str, Any] = field(default_factory=_empty)
    """Whether the old key value was seen live before (``confirmed``, ``how``)."""
    before: Mapping[str, Any] = field(default_factory=_empty)
    """The before-observation a cut-over made of the old key (empty for a plain verify)."""
    run: Mapping[str, Any] = field(default_factory=_empty)
    """The run's ``token`` and ``user_agent`` (how its requests are told apart in logs)."""
    document: Mapping[str, Any] = field(default_factory=_empty)
    """The document itself, read only (what ``--json`` prints)."""
    step: str | None = None
    """The step the verdict is about (from the workspace row, or the document's target)."""
    id: int | None = None
    """The workspace's verdict id, when read from a row."""
    old_key_fingerprint: str | None = None
    """Fingerprint of the old key probed (never its value), when read from a row."""
    recorded_at: datetime | None = None
    """When the workspace stored it, when read from a row."""

    @property
    def passed(self) -> bool:
        """True only for PASS."""
        return self.verdict == Verdict.PASS

    @classmethod
    def from_document(
        cls,
        doc: Any,
        *,
        verdict: str | None = None,
        step: str | None = None,
        id: int | None = None,
        old_key_fingerprint: str | None = None,
        recorded_at: datetime | None = None,
    ) -> VerdictReading:
        """Read ``doc`` (``verdict_document``'s shape); the keyword arguments are what a
        workspace row knows beside it (its ``verdict`` column wins over the document's)."""
        d = _mapping(doc)
        probes = d.get("probes")
        reasons = d.get("reasons")
        readings = (
            (ProbeReading.from_document(p) for p in probes) if isinstance(probes, list) else ()
        )
        return cls(
            verdict=_verdict(verdict or d.get("verdict")),
            url=_text(d.get("url"), "?"),
            started=_text(d.get("started"), "?"),
            finished=_text(d.get("finished"), "?"),
            probes=tuple(p for p in readings if p is not None),
            reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
            scope=_mapping(d.get("scope")),
            liveness=_mapping(d.get("liveness")),
            before=_mapping(d.get("before")),
            run=_mapping(d.get("run")),
            document=d,
            step=step if step is not None else d.get("target"),
            id=id,
            old_key_fingerprint=old_key_fingerprint,
            recorded_at=recorded_at,
        )

    @classmethod
    def from_row(cls, row: Any) -> VerdictReading:
        """A verdict the workspace recorded (:class:`workbench.workspace.records.Verdict`)."""
        return cls.from_document(
            row.evidence,
            verdict=row.verdict,
            step=row.step_key,
            id=row.id,
            old_key_fingerprint=row.old_key_fingerprint,
            recorded_at=row.recorded_at,
        )
