"""Certificate files on disk, written so that a crash can never leave two active certs.

Layout (every name checked as by ``safe_join``; directories 0700, keys and PKCS#12 0600)::

    certs/step/<step>/<service>/<serial>.crt | .key | .chain.pem | .p12   (step certificates)
    certs/<kind>/<service>/<serial>.*                                     (no step: ca, server)

:func:`ensure_certificate` is the idempotent issue path (req. 26): under the database write
lock it removes files in the slot whose serial has no database row (left by a run killed
between "files written" and "state saved"), returns the active certificate if there is one
(unless renewing), else calls the issuer, writes the files under serial-derived names,
and records the certificate in the same transaction. Killed anywhere, a re-run converges to
exactly one active certificate per (step, service, kind), with files for it. For many slots
at once (a step's consumers) use ``workbench.workspace.certbulk.ensure_certificates``: the
same guarantees with one query, one flush and one batch of rows and audit records.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import UnsafePathError, WorkspaceError
from workbench.workspace.atomic import DurableBatch
from workbench.workspace.certs import normalise_serial
from workbench.workspace.paths import check_name, ensure_private_dir, safe_join
from workbench.workspace.records import CertificateRecord

if TYPE_CHECKING:
    from workbench.workspace.store import Workspace

__all__ = [
    "CertPaths",
    "CertificateMaterial",
    "certificate_paths",
    "ensure_certificate",
    "find_orphans",
    "remove_orphans",
]

CERTS_DIR = "certs"


@dataclass(frozen=True, repr=False)
class CertificateMaterial:
    """What an issuer hands back: PEM/DER bytes. Metadata is read from ``cert_pem``."""

    cert_pem: bytes
    """The leaf certificate, PEM."""
    key_pem: bytes | None = None
    """The private key, PEM (written 0600); None when the key lives elsewhere (CSR flow)."""
    chain_pem: bytes | None = None
    """Leaf plus intermediates, PEM."""
    p12: bytes | None = None
    """PKCS#12 bundle (written 0600)."""
    issued: Any = None
    """The local CA's ``IssuedCertificate`` for ``cert_pem``, if that is where it came from:
    its serial, validity, digests and SPIFFE ID are used instead of parsing the PEM again
    (only when its ``pem`` is byte-for-byte ``cert_pem``)."""

    def __repr__(self) -> str:  # never show key bytes (req. 12)
        return "CertificateMaterial(<redacted>)"


@dataclass(frozen=True)
class CertPaths:
    """Absolute paths of one certificate's files."""

    directory: Path
    """The slot directory (0700)."""
    cert: Path
    """``<serial>.crt``."""
    key: Path
    """``<serial>.key`` (0600)."""
    chain: Path
    """``<serial>.chain.pem``."""
    p12: Path
    """``<serial>.p12`` (0600)."""


def _slot_parts(step_key: str | None, service: str, kind: str) -> tuple[str, ...]:
    if step_key is not None:
        return (CERTS_DIR, "step", step_key, service)
    return (CERTS_DIR, check_name(kind), service)


def certificate_paths(
    ws: Workspace, *, service: str, serial: str, step_key: str | None = None, kind: str = "client"
) -> CertPaths:
    """Where a certificate's files go (names checked, req. 21; nothing is created)."""
    slot = safe_join(ws.directory, *_slot_parts(step_key, service, kind))
    return _paths_in(slot, normalise_serial(serial))


_SUFFIXES = ("crt", "key", "chain.pem", "p12")


def _paths_in(slot: Path, serial: str, *, check_links: bool = True) -> CertPaths:
    """The files of ``serial`` in a slot that ``safe_join`` (or :func:`_slot`) has checked.

    Same checks as ``safe_join`` on each file name (safe alphabet, no symlink) without
    resolving each path again: the slot is inside the workspace and link-free, so a
    link-free child is too. ``check_links=False`` when every file is then written through
    ``DurableBatch``, which refuses a symlink at the target itself.
    """
    base = os.fspath(slot)
    check_name(f"{serial}.chain.pem")  # the longest name; the others differ only in suffix
    files = []
    for suffix in _SUFFIXES:
        path = f"{base}/{serial}.{suffix}"
        if check_links and os.path.islink(path):
            raise UnsafePathError(
                f"refusing symlink at {path}: remove it; the workspace never follows links"
            )
        files.append(Path(path))
    return CertPaths(slot, *files)


def _slot(ws: Workspace, parts: tuple[str, ...]) -> Path:
    """``safe_join(ws.directory, *parts)`` for the bulk path (req. 9, 21), ~5x cheaper.

    Same checks: every part is one safe name (no ``..``, ``/``, NUL, look-alikes) and no
    existing component below the workspace is a symlink. ``safe_join`` also resolves the
    result and compares; with a resolved root, safe names and no links on the way the
    resolved path is the joined one, so that step is skipped. The resolved root is cached
    on the workspace object (``realpath`` of the workspace cost ~25 us per certificate).
    """
    for name in parts:
        check_name(name)
    root = ws.real_directory
    current = os.fspath(root)
    for name in parts:
        current = f"{current}/{name}"
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            break  # nothing exists below a missing directory
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError(
                f"refusing symlink at {current}: remove it; the workspace never follows links"
            )
    return root.joinpath(*parts)


def describe_certificate(
    cert_pem: bytes, *, service: str, kind: str, step_key: str | None
) -> CertificateRecord:
    """Read serial, validity, SHA-256, x5t#S256 and SPIFFE ID from a PEM certificate."""
    from cryptography import x509  # imported here: keeps `import workbench.workspace` light
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise WorkspaceError("issuer returned something that is not a PEM certificate") from None

    der = cert.public_bytes(Encoding.DER)
    digest = hashlib.sha256(der).digest()
    spiffe = None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier)]
        spiffe = next((u for u in uris if u.startswith("spiffe://")), None)
    except x509.ExtensionNotFound:
        pass
    return CertificateRecord(
        serial=normalise_serial(cert.serial_number),
        service=service,
        kind=kind,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=digest.hex(),
        x5t_s256=base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
        step_key=step_key,
        spiffe_id=spiffe,
    )


def _rel(ws: Workspace, p: Path) -> str:
    return str(p.relative_to(ws.directory.resolve()))


def _describe_material(
    material: CertificateMaterial, *, service: str, kind: str, step_key: str | None
) -> CertificateRecord:
    """:func:`describe_certificate`, from the issuer's own facts when it handed them over."""
    issued = material.issued
    if issued is None or getattr(issued, "pem", None) != material.cert_pem:
        return describe_certificate(
            material.cert_pem, service=service, kind=kind, step_key=step_key
        )
    return CertificateRecord(
        serial=normalise_serial(issued.serial),
        service=service,
        kind=kind,
        not_before=issued.not_before,
        not_after=issued.not_after,
        sha256=issued.sha256_fingerprint,
        x5t_s256=issued.x5t_s256,
        step_key=step_key,
        spiffe_id=issued.spiffe_id,
    )


def ensure_certificate(
    ws: Workspace,
    *,
    service: str,
    issue: Callable[[], CertificateMaterial],
    kind: str = "client",
    step_key: str | None = None,
    renew: bool = False,
    now: datetime | None = None,
    durable: bool = True,
    after_files: Callable[[CertificateRecord], None] | None = None,
    batch: DurableBatch | None = None,
) -> tuple[CertificateRecord, bool]:
    """Return the slot's active certificate, issuing one only if needed (req. 26).

    Returns ``(record, issued)``. With ``renew=True`` a new certificate is always issued and
    the old one superseded in the same transaction. ``after_files`` runs after the files
    are in place and before the state is committed (tests kill the process there).

    For a whole step prefer ``ensure_certificates`` (certbulk), which needs no batch.
    Bulk issuance: share one batch inside one transaction so 6,000 files cost two flushes::

        with ws.transaction():
            with DurableBatch() as batch:
                for svc in services:
                    ensure_certificate(ws, service=svc, ..., batch=batch)
            # files are in place and flushed here; the transaction commits after them

    With a shared batch the files appear when the batch exits (``after_files`` then runs
    before they are in place).
    """
    check_name(service)
    with ws.transaction():
        parts = _slot_parts(step_key, service, kind)
        slot = _slot(ws, parts)
        _remove_slot_orphans(ws, slot, keep=batch.pending if batch else {})
        current = ws.active_in_slot(step_key, service, kind)
        if current and not renew:
            return current[0], False
        material = issue()
        record = _describe_material(material, service=service, kind=kind, step_key=step_key)
        paths = _paths_in(slot, record.serial, check_links=False)
        _ensure_dirs(ws.real_directory, parts)
        own = batch is None
        staging = DurableBatch(durable=durable) if batch is None else batch
        try:
            rel = _stage_files("/".join(parts), staging, paths, material)
            written = staging.commit() if own else []
        except BaseException:
            if own:
                staging.abort()
            raise
        try:
            if after_files is not None:
                after_files(record)
            stored = ws.add_certificate(
                replace(record, **rel), if_active="supersede" if renew else "error", now=now
            )
        except BaseException:
            if own:
                for p in written:
                    p.unlink(missing_ok=True)
            else:
                staging.abort()
            raise
        return stored, True


def _stage_files(
    slot_rel: str, staging: DurableBatch, paths: CertPaths, material: CertificateMaterial
) -> dict[str, str]:
    """Stage the material's files (keys and PKCS#12 0600); return the relative paths.

    ``slot_rel`` is the slot relative to the workspace (``certs/step/<step>/<service>``).
    """
    staging.write(paths.cert, material.cert_pem, mode=0o644)
    rel = {"cert_path": f"{slot_rel}/{paths.cert.name}"}
    for attr, path, mode in (
        ("key_pem", paths.key, 0o600),
        ("chain_pem", paths.chain, 0o644),
        ("p12", paths.p12, 0o600),
    ):
        data = getattr(material, attr)
        if data is not None:
            staging.write(path, data, mode=mode)
            rel[f"{attr.removesuffix('_pem')}_path"] = f"{slot_rel}/{path.name}"
    return rel


def _ensure_dirs(root: Path, parts: tuple[str, ...]) -> None:
    """Make every directory from ``root`` down through ``parts`` exist as 0700 (req. 9).

    One ``lstat`` for a directory that is already a 0700 directory (not a link), one
    ``mkdir`` + ``lstat`` for a new one; anything else (missing parent, symlink, file,
    other mode) goes through ``ensure_private_dir``, which creates, refuses or fixes it.
    ``ensure_private_dir`` on each of the four levels cost ~12 syscalls per certificate.
    """
    current = os.fspath(root)
    for name in parts:
        current = f"{current}/{name}"
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            try:
                os.mkdir(current, 0o700)  # the umask can only make it stricter: checked below
            except OSError:
                ensure_private_dir(current)
                continue
            st = os.lstat(current)
        if not (stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700):
            ensure_private_dir(current)


def _serial_of(name: str) -> str | None:
    head = name.split(".", 1)[0]
    try:
        return normalise_serial(head)
    except WorkspaceError:
        return None


def _remove_slot_orphans(
    ws: Workspace, slot: Path, *, keep: Mapping[Path, Path] | Collection[Path]
) -> list[Path]:
    """Delete files in one slot without a database row.

    ``keep``: a shared batch's temp files (its ``pending`` map, whose values are the temps,
    or a collection of temp paths). Serials are looked up one by one and the keep set is
    built only when the slot holds a temp file: loading every serial, or every pending
    temp, once per slot made bulk issuance and renewal quadratic.
    """
    if not slot.is_dir():
        return []
    known: dict[str | None, bool] = {None: False}
    kept: set[Path] | None = None
    removed = []
    for entry in os.scandir(slot):
        if not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            if kept is None:
                kept = set(keep.values() if isinstance(keep, Mapping) else keep)
            orphan = path not in kept
        else:
            serial = _serial_of(entry.name)
            if serial not in known:
                known[serial] = _serial_recorded(ws, serial)  # type: ignore[arg-type]
            orphan = not known[serial]
        if orphan:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _serial_recorded(ws: Workspace, serial: str) -> bool:
    row = ws.connection.execute("SELECT 1 FROM certificates WHERE serial = ?", (serial,))
    return row.fetchone() is not None


def find_orphans(ws: Workspace) -> list[Path]:
    """Files under ``certs/`` whose serial has no database row (or stale temp files)."""
    root = ws.directory.resolve() / CERTS_DIR
    if not root.is_dir():
        return []
    known = ws.known_serials()
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            stale = name.startswith(".") and name.endswith(".tmp")
            if stale or _serial_of(name) not in known:
                found.append(Path(dirpath) / name)
    return sorted(found)


def remove_orphans(ws: Workspace, *, now: datetime | None = None) -> list[Path]:
    """Delete orphaned certificate files under the write lock; audit what was removed."""
    with ws.transaction():
        orphans = find_orphans(ws)
        for p in orphans:
            p.unlink(missing_ok=True)
        if orphans:
            ws.audit(
                "cert.orphans_removed",
                CERTS_DIR,
                {"count": len(orphans), "files": [_rel(ws, p) for p in orphans][:100]},
                now=now,
            )
    return orphans
