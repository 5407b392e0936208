"""Export change-ticket playbooks: render everything in memory, check it, then write atomically.

Files (``NN`` = wave number, ``KEY`` = step key, a safe id):

- ``md``: ``wave-NN-KEY.md`` per step and ``wave-NN.md`` per wave (jinja2 templates);
- ``yaml`` / ``json``: the same names with ``.yaml`` / ``.json``, schema ``workbench.playbook/v2``;
- ``csv``: ``tickets.csv``, one row per ticket for bulk import (wave in the labels).

The guard against old key values (requirement 11) lives in two places: the model refuses any
non-text object (a ``SecretValue`` included) and documents hide free text that looks like a
secret; and here, the caller may pass the old keys' values it holds (``secrets=``): if any of
them occurs in any input text or any rendered byte, nothing is written and the error names the
key by fingerprint only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.errors import PlaybookError
from workbench.inventory.ids import SAFE_ID_RULE, is_safe_id
from workbench.playbook.document import (
    PRIORITY_THRESHOLDS,
    ticket_document,
    wave_document,
    wave_id,
)
from workbench.playbook.model import WaveContext
from workbench.playbook.render import (
    FORMATS,
    csv_rows,
    md_environment,
    render_csv,
    render_data,
    render_md,
)
from workbench.playbook.text import md_escape
from workbench.secrets import SecretValue, key_fingerprint
from workbench.workspace.atomic import DurableBatch

__all__ = ["CSV_FILE", "export_playbooks", "render_playbooks"]

CSV_FILE = "tickets.csv"


def _check_ids(waves: Sequence[WaveContext]) -> None:
    seen: set[str] = set()
    for w in waves:
        if not isinstance(w, WaveContext):
            raise PlaybookError(f"waves must hold WaveContext objects, got {type(w).__name__}")
        for t in w.tickets:
            if not is_safe_id(t.step_key):
                # The id is hostile by assumption: show it escaped, never raw.
                raise PlaybookError(
                    f"step key {ascii(t.step_key)[:80]} cannot name a file: {SAFE_ID_RULE}"
                )
            if t.step_key in seen:
                raise PlaybookError(f"step {t.step_key} appears twice; export each step once")
            if t.wave != w.number:
                raise PlaybookError(
                    f"step {t.step_key} says wave {t.wave} but is listed in wave {w.number}"
                )
            seen.add(t.step_key)


def render_playbooks(
    waves: Sequence[WaveContext],
    *,
    fmt: str,
    now: datetime,
    templates_dir: Path | None = None,
    thresholds: Sequence[tuple[float, str]] = PRIORITY_THRESHOLDS,
) -> dict[str, str]:
    """File name -> text for every file of the export, in write order. Writes nothing."""
    if fmt not in FORMATS:
        raise PlaybookError(f"unknown playbook format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise PlaybookError("now must be a timezone-aware datetime")
    _check_ids(waves)
    if not all(name in ("P1", "P2", "P3") for _, name in thresholds):
        raise PlaybookError("priority thresholds name P1, P2 or P3 (below them is P4)")
    docs = [
        (w, [ticket_document(t, now=now, thresholds=thresholds) for t in w.tickets]) for w in waves
    ]
    out: dict[str, str] = {}
    if fmt == "csv":
        tickets = [t for _, ts in docs for t in ts]
        out[CSV_FILE] = render_csv(csv_rows(tickets, [f"{t['id']}.md" for t in tickets]))
        return out
    env = md_environment(templates_dir) if fmt == "md" else None
    for w, tickets in docs:
        for t in tickets:
            name = f"{t['id']}.{fmt}"
            out[name] = render_md(env, "ticket.md.j2", t=t) if env else render_data(t, fmt)
        wdoc = wave_document(w, tickets, now=now)
        name = f"{wave_id(w.number)}.{fmt}"
        out[name] = render_md(env, "wave.md.j2", w=wdoc, ext=fmt) if env else render_data(wdoc, fmt)
    return out


def _strings(obj: Any, path: str) -> Iterable[tuple[str, str]]:
    """Every text value in a context tree, with where it sits."""
    if isinstance(obj, str):
        yield path, obj
    elif is_dataclass(obj) and not isinstance(obj, type):
        for f in fields(obj):
            yield from _strings(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, tuple | list):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")


def _secret_values(secrets: Iterable[SecretValue | str]) -> list[tuple[str, str]]:
    out = []
    for s in secrets:
        value = s.reveal() if isinstance(s, SecretValue) else s
        if not isinstance(value, str) or not value:
            raise PlaybookError("secrets= takes SecretValue objects or non-empty strings")
        out.append((value, key_fingerprint(value)))
    return out


def _guard(
    waves: Sequence[WaveContext], files: dict[str, str], secrets: list[tuple[str, str]]
) -> None:
    if not secrets:
        return
    for w in waves:
        for where, text in _strings(w, f"wave {w.number}"):
            for value, fp in secrets:
                if value in text:
                    raise PlaybookError(
                        f"refusing to export: the old key with fingerprint {fp} is in the input "
                        f"({where}); remove it, tickets carry fingerprints only"
                    )
    for name, text in files.items():
        for value, fp in secrets:
            forms = {value, md_escape(value), json.dumps(value)[1:-1], value.replace('"', '""')}
            if any(f in text for f in forms):
                raise PlaybookError(
                    f"refusing to export: the old key with fingerprint {fp} would be written to "
                    f"{name}; nothing was written"
                )


def export_playbooks(
    waves: Sequence[WaveContext],
    *,
    fmt: str,
    out_dir: Path,
    now: datetime,
    templates_dir: Path | None = None,
    secrets: Iterable[SecretValue | str] = (),
    thresholds: Sequence[tuple[float, str]] = PRIORITY_THRESHOLDS,
    durable: bool = True,
) -> list[Path]:
    """Write one change ticket per step and one summary per wave; return the paths written.

    Everything is rendered and checked in memory first; then every file is staged as a temp
    file in ``out_dir`` and renamed into place (requirement 24), so an error at any point
    before the renames leaves ``out_dir`` as it was. ``out_dir`` is created if missing; files
    of earlier exports that this one does not produce are left alone.
    """
    files = render_playbooks(
        waves, fmt=fmt, now=now, templates_dir=templates_dir, thresholds=thresholds
    )
    _guard(waves, files, _secret_values(secrets))
    out = Path(out_dir)
    if out.is_symlink():
        raise PlaybookError(f"{out} is a symlink; export into a real directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlaybookError(f"cannot create {out}: {exc.strerror}") from None
    if not out.is_dir():
        raise PlaybookError(f"{out} is not a directory")
    with DurableBatch(durable=durable) as batch:
        for name, text in files.items():
            batch.write(out / name, text.encode("utf-8"), mode=0o644)
    return list(batch.written)
