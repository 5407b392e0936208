"""Bulk issuance: many slots of one step in one pass, with the guarantees of the single path.

:func:`ensure_certificates` is :func:`~workbench.workspace.certfiles.ensure_certificate` for a
whole step (req. 26): under the database write lock it

1. reads the step's active certificates with one query and skips those slots (unless
   renewing);
2. sweeps the step's directory of the requested services' files whose serial has no
   database row (left by a run killed between "files written" and "state saved"), one
   serial lookup per 500 files;
3. issues each certificate in memory and writes its files straight under their
   serial-derived names in the step's one flat directory (``O_CREAT|O_EXCL|O_NOFOLLOW``
   relative to the directory's descriptor, mode set with ``fchmod`` whatever the umask:
   keys and PKCS#12 0600, the directory 0700, req. 9); for a large step a helper process
   creates them on the other core while this one signs (``filehelper.new_files``, same
   creation code, same guarantees). No temp file and rename is needed
   for atomicity (req. 24): a file named by a serial only becomes real when that serial's
   row commits, and a torn or unrecorded file is an orphan that step 2 (or
   ``remove_orphans``) deletes on the next run;
4. inserts every row (``executemany``), supersedes renewed certificates and appends one
   hash-chained audit record per change (req. 25) inside a savepoint of the caller's
   transaction; the JSONL lines are written once, just before ``COMMIT``;
5. meanwhile flushes the file system (``syncfs``) in a background thread, started after
   the last file is written and waited for before returning, so every file is on disk
   before any row naming it can commit. When this process writes the files, the same
   thread also flushes what is already written while the writing goes on
   (``fsio.FlushAhead``), so that last flush finds little left to do; when the helper
   writes them, both cores are busy and the last flush alone costs less.

If anything fails the files this call wrote are removed (also when the enclosing
transaction rolls back later); a kill leaves only orphans. Killed anywhere, a re-run
converges to exactly one active certificate per (step, service, kind).
"""

from __future__ import annotations

import errno
import gc
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from workbench.errors import UnsafePathError, WorkspaceError
from workbench.fsio import DIR_FLAGS, FlushAhead, force_mode
from workbench.workspace.audit import iso
from workbench.workspace.certfiles import CertificateMaterial, _describe_material
from workbench.workspace.certlayout import (
    checked_dir,
    file_name,
    make_slot_dir,
    slot_dir_parts,
    split_name,
    temp_target,
)
from workbench.workspace.certs import _SHA256
from workbench.workspace.filehelper import HelperFiles, LocalFiles, new_files
from workbench.workspace.paths import check_name
from workbench.workspace.records import CERT_KINDS, CertificateRecord, parse_time

if TYPE_CHECKING:
    from workbench.workspace.store import Workspace

__all__ = ["CertificateRequest", "ensure_certificates"]

_LOOKUP_CHUNK = 500  # serials per IN (...) query: below every SQLite variable limit
_FILES = (
    ("crt", "cert_pem", 0o644),
    ("key", "key_pem", 0o600),
    ("chain.pem", "chain_pem", 0o644),
    ("p12", "p12", 0o600),
)
_REL = {
    "cert_pem": "cert_path",
    "key_pem": "key_path",
    "chain_pem": "chain_path",
    "p12": "p12_path",
}


@dataclass(frozen=True)
class CertificateRequest:
    """One slot to fill: the service and how to issue its certificate if it needs one."""

    service: str
    """The service id (one safe path name, req. 21)."""
    issue: Callable[[], CertificateMaterial]
    """Called only when the slot has no active certificate (or when renewing)."""


def ensure_certificates(
    ws: Workspace,
    requests: Iterable[CertificateRequest],
    *,
    kind: str = "client",
    step_key: str | None = None,
    renew: bool = False,
    now: datetime | None = None,
    durable: bool = True,
    after_files: Callable[[Sequence[CertificateRecord]], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[CertificateRecord, bool]]:
    """The active certificate of every requested slot, issuing only where needed (req. 26).

    Returns ``(record, issued)`` per request, in request order. With ``renew=True`` every
    slot gets a new certificate and its old one is superseded in the same transaction.
    ``after_files`` runs once, with the new records, after every file is written and
    flushed and before any row commits (tests kill the process there). ``progress(1)`` is
    called per request. Joins the caller's transaction if there is one; do not mix with a
    shared ``DurableBatch`` writing into the same slots.
    """
    reqs = list(requests)
    services = [check_name(r.service) for r in reqs]
    if len(set(services)) != len(services):
        raise WorkspaceError("a service is listed twice in one bulk issuance: list it once")
    if kind not in CERT_KINDS:
        raise WorkspaceError(f"certificate kind {kind!r}: use one of {CERT_KINDS}")
    created: list[str] = []
    try:
        with ws.transaction():
            ws.on_rollback(lambda: _unlink_all(created))
            return _ensure(
                ws, reqs, kind, step_key, renew, now, durable, after_files, progress, created
            )
    except BaseException:
        _unlink_all(created)
        raise


def _ensure(
    ws: Workspace,
    reqs: list[CertificateRequest],
    kind: str,
    step_key: str | None,
    renew: bool,
    now: datetime | None,
    durable: bool,
    after_files: Callable[[Sequence[CertificateRecord]], None] | None,
    progress: Callable[[int], None] | None,
    created: list[str],
) -> list[tuple[CertificateRecord, bool]]:
    parts = slot_dir_parts(step_key, kind)
    directory = checked_dir(ws, parts)  # names checked, no symlink on the way (req. 9, 21)
    active = _active_by_service(ws, step_key, kind)
    _remove_orphans(ws, os.fspath(directory), {r.service for r in reqs})
    todo = [renew or r.service not in active for r in reqs]
    if not any(todo):
        if progress is not None:
            for _ in reqs:
                progress(1)  # one per request, as when issuing
        return [(active[r.service], False) for r in reqs]
    make_slot_dir(ws.real_directory, parts)  # in a fresh block group when new (ext4)
    base, rel_dir = os.fspath(directory), "/".join(parts)
    results: list[tuple[CertificateRecord, bool] | None] = []
    new: list[tuple[CertificateRecord, dict[str, str]]] = []  # (facts, file paths)
    expected = sum(todo) * len(_FILES)  # an upper bound: PKCS#12 bundles are optional
    dir_fd = _open_dir(base)
    with FlushAhead(directory, enabled=durable) as flush, _no_cycle_collection():
        try:
            with new_files(dir_fd, base, created, expected=expected) as files:
                # Flush ahead only while this process writes: when the helper writes, both
                # cores are busy and a flush ahead takes the signer's (measured: ~280 vs
                # ~200 us a certificate); the last flush, behind the rows, is enough then.
                ahead = isinstance(files, LocalFiles)
                for req, issue in zip(reqs, todo, strict=True):
                    if not issue:
                        results.append((active[req.service], False))
                    else:
                        material = req.issue()
                        record = _describe_material(
                            material, service=req.service, kind=kind, step_key=step_key
                        )
                        rel = _write_files(files, rel_dir, material, record)
                        if ahead:
                            flush.wrote(len(rel))
                        new.append((record, rel))
                        results.append(None)
                    if progress is not None:
                        progress(1)
        except FileExistsError as exc:
            raise _exists_error(f"{base}/{exc.filename}") from None
        finally:
            os.close(dir_fd)
        flush.finish_behind()  # the last flush runs while the rows are prepared
        with ws.savepoint():
            stored = iter(_record(ws, new, active if renew else {}, now))
            flush.wait()  # every file on disk before a row naming it can commit
            if after_files is not None:
                after_files(tuple(replace(record, **rel) for record, rel in new))
    return [r if r is not None else (next(stored), True) for r in results]


_gc_lock = threading.Lock()
_gc_pauses = 0  # bulk issuances running now (threads), each pausing the cycle collector
_gc_was_enabled = False


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a step is issued; restore it afterwards.

    Signing allocates a few dozen container objects per certificate, so the collector runs
    every ~20 certificates and its older generations walk everything alive (the inventory,
    the records kept so far): ~10% of the issuing process's CPU, measured with perf. What
    issuance allocates is freed by reference counting; cycles wait for the next collection.
    Nested or concurrent issuances (threads) share one pause; the last one to finish
    restores the collector's previous state.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _active_by_service(ws: Workspace, step_key: str | None, kind: str) -> dict:
    rows = ws.connection.execute(
        "SELECT * FROM certificates WHERE coalesce(step_key, '') = ? AND kind = ? "
        "AND status = 'active'",
        (step_key or "", kind),
    ).fetchall()
    return {r["service"]: CertificateRecord.from_row(r) for r in rows}


def _unlink_all(paths: list[str]) -> None:
    while paths:
        with suppress(FileNotFoundError):
            os.unlink(paths.pop())


def _refuse_link(path: str) -> UnsafePathError:
    return UnsafePathError(
        f"refusing symlink at {path}: remove it; the workspace never follows links"
    )


def _remove_orphans(ws: Workspace, directory: str, services: set[str]) -> None:
    """Delete the requested services' files in ``directory`` whose serial has no row (and
    their stale temp files); other services' files are left alone."""
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return
    files: list[tuple[str, str | None]] = []
    for entry in entries:
        if not entry.is_file(follow_symlinks=False):
            continue  # a link or a directory is never swept (nor written through)
        target = temp_target(entry.name)
        service, serial = split_name(entry.name if target is None else target)
        if service in services:
            files.append((entry.path, None if target is not None else serial))
    wanted = sorted({s for _, s in files if s is not None})
    known: set[str] = set()
    for i in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[i : i + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = ws.connection.execute(
            f"SELECT serial FROM certificates WHERE serial IN ({marks})",  # noqa: S608
            chunk,
        )
        known.update(r[0] for r in rows)
    for path, serial in files:
        if serial not in known:
            with suppress(FileNotFoundError):
                os.unlink(path)


def _open_dir(path: str) -> int:
    """Open a directory without following a link; make it 0700 if it is not (req. 9)."""
    try:
        fd = os.open(path, DIR_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise _refuse_link(path) from None
        raise UnsafePathError(f"{path} is not a usable directory ({exc.strerror})") from None
    try:
        force_mode(fd, 0o700)  # mkdir's mode went through the umask; fchmod does not
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_files(
    files: LocalFiles | HelperFiles,
    rel_dir: str,
    material: CertificateMaterial,
    record: CertificateRecord,
) -> dict[str, str]:
    """Write one certificate's files as ``<service>.<serial>.*``; their relative paths."""
    serial, service = record.serial, record.service
    check_name(serial)  # hex; the service is a checked name, so every joined name is safe
    rel: dict[str, str] = {}
    for suffix, attr, mode in _FILES:
        data = getattr(material, attr)
        if data is None:
            if attr == "cert_pem":
                raise WorkspaceError("issuer returned no certificate")
            continue
        name = file_name(service, serial, suffix)
        files.create(name, data, mode)  # exactly ``mode``, whatever the umask
        rel[_REL[attr]] = f"{rel_dir}/{name}"
    return rel


def _exists_error(path: str) -> WorkspaceError:
    if os.path.islink(path):
        return _refuse_link(path)
    return WorkspaceError(f"{path} already exists: its serial is recorded for another certificate")


def _record(
    ws: Workspace,
    records: list[tuple[CertificateRecord, dict[str, str]]],
    old: dict[str, CertificateRecord],
    now: datetime | None,
) -> list[CertificateRecord]:
    """Insert the rows, supersede renewed ones and audit each change; the stored records."""
    at = ws.now(now)
    at_text = iso(at)
    issued_at = parse_time(at_text)
    times: dict[datetime, str] = {}  # a step's certificates share their validity times

    def time_text(moment: datetime) -> str:
        text = times.get(moment)
        if text is None:
            text = times[moment] = iso(moment)
        return text

    superseded: list[tuple[str, str, str]] = []
    rows = []
    audits: list[tuple[str, str, dict]] = []
    stored = []
    for rec, rel in records:
        if not _SHA256.fullmatch(rec.sha256):
            raise WorkspaceError("certificate sha256 must be 64 lower-case hex")
        serial = rec.serial
        prior = old.get(rec.service)
        if prior is not None:
            reason = f"superseded by {serial}"
            superseded.append((at_text, reason, prior.serial))
            audits.append(("cert.supersede", prior.serial, {"reason": reason}))
        not_before, not_after = time_text(rec.not_before), time_text(rec.not_after)
        cert_path, key_path = rel["cert_path"], rel.get("key_path")
        chain_path, p12_path = rel.get("chain_path"), rel.get("p12_path")
        rows.append(
            (
                serial,
                rec.step_key,
                rec.service,
                rec.kind,
                rec.spiffe_id,
                not_before,
                not_after,
                rec.sha256,
                rec.x5t_s256,
                cert_path,
                key_path,
                chain_path,
                p12_path,
                at_text,
            )
        )
        audits.append(
            (
                "cert.renew" if prior is not None else "cert.issue",
                serial,
                {
                    "step": rec.step_key,
                    "service": rec.service,
                    "kind": rec.kind,
                    "spiffe_id": rec.spiffe_id,
                    "not_after": not_after,
                    "sha256": rec.sha256,
                    "x5t_s256": rec.x5t_s256,
                    "replaces": prior.serial if prior is not None else None,
                },
            )
        )
        stored.append(  # every field named: dataclasses.replace costs ~4 us a record
            CertificateRecord(
                serial=serial,
                service=rec.service,
                kind=rec.kind,
                not_before=rec.not_before,
                not_after=rec.not_after,
                sha256=rec.sha256,
                x5t_s256=rec.x5t_s256,
                step_key=rec.step_key,
                spiffe_id=rec.spiffe_id,
                cert_path=cert_path,
                key_path=key_path,
                chain_path=chain_path,
                p12_path=p12_path,
                status="active",
                issued_at=issued_at,
                revoked_at=None,
                reason=None,
            )
        )
    conn = ws.connection
    try:
        if superseded:
            conn.executemany(
                "UPDATE certificates SET status = 'superseded', revoked_at = ?, reason = ? "
                "WHERE serial = ? AND status = 'active'",
                superseded,
            )
        conn.executemany(
            "INSERT INTO certificates (serial, step_key, service, kind, spiffe_id, not_before,"
            " not_after, sha256, x5t_s256, cert_path, key_path, chain_path, p12_path, status,"
            " issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
            rows,
        )
    except sqlite3.IntegrityError as exc:
        raise WorkspaceError(
            f"cannot record the new certificates ({exc}): a serial is already recorded; re-run"
        ) from None
    ws.audit_many(audits, now=now)
    return stored
