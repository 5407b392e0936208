"""Certificate files on disk, written so that a crash can never leave two active certs.

Layout: one flat 0700 directory per step, ``certs/step/<step>/<service>.<serial>.crt |
.key | .chain.pem | .p12`` (keys and PKCS#12 0600); see ``workbench.workspace.certlayout``.

:func:`ensure_certificate` is the idempotent issue path (req. 26): under the database write
lock it removes the slot's files (its service's) whose serial has no database row (left by
a run killed between "files written" and "state saved"), returns the active certificate if
there is one (unless renewing), else calls the issuer, writes the files under serial-derived names,
and records the certificate in the same transaction. Killed anywhere, a re-run converges to
exactly one active certificate per (step, service, kind), with files for it. For many slots
at once (a step's consumers) use ``workbench.workspace.certbulk.ensure_certificates``: the
same guarantees with one query, one flush and one batch of rows and audit records.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import UnsafePathError, WorkspaceError
from workbench.workspace.atomic import DurableBatch
from workbench.workspace.certlayout import (
    CERTS_DIR,
    SUFFIXES,
    checked_dir,
    ensure_dirs,
    file_name,
    serial_of,
    slot_dir_parts,
    split_name,
    temp_target,
)
from workbench.workspace.certs import normalise_serial
from workbench.workspace.paths import check_name, safe_join
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
    """The step's (or kind's) directory (0700)."""
    cert: Path
    """``<service>.<serial>.crt``."""
    key: Path
    """``<service>.<serial>.key`` (0600)."""
    chain: Path
    """``<service>.<serial>.chain.pem``."""
    p12: Path
    """``<service>.<serial>.p12`` (0600)."""


def certificate_paths(
    ws: Workspace, *, service: str, serial: str, step_key: str | None = None, kind: str = "client"
) -> CertPaths:
    """Where a certificate's files go (names checked, req. 21; nothing is created)."""
    directory = safe_join(ws.directory, *slot_dir_parts(step_key, kind))
    return _paths_in(directory, check_name(service), normalise_serial(serial))


def _paths_in(directory: Path, service: str, serial: str, *, check_links: bool = True) -> CertPaths:
    """The files of ``service``'s certificate ``serial`` in a checked, link-free directory.

    Same checks as ``safe_join`` on each file name (safe alphabet, no symlink) without
    resolving each path again: a link-free child of a link-free directory inside the
    workspace stays inside it. ``check_links=False`` when every file is then written
    through ``DurableBatch``, which refuses a symlink at the target itself.
    """
    base = os.fspath(directory)
    check_name(serial)  # hex; ``service`` is a checked name, so the joined names are safe
    files = []
    for suffix in SUFFIXES:
        path = f"{base}/{file_name(service, serial, suffix)}"
        if check_links and os.path.islink(path):
            raise UnsafePathError(
                f"refusing symlink at {path}: remove it; the workspace never follows links"
            )
        files.append(Path(path))
    return CertPaths(directory, *files)


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
        parts = slot_dir_parts(step_key, kind)
        directory = checked_dir(ws, parts)
        _remove_slot_orphans(ws, directory, service, keep=batch.pending if batch else {})
        current = ws.active_in_slot(step_key, service, kind)
        if current and not renew:
            return current[0], False
        material = issue()
        record = _describe_material(material, service=service, kind=kind, step_key=step_key)
        paths = _paths_in(directory, service, record.serial, check_links=False)
        ensure_dirs(ws.real_directory, parts)
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

    ``slot_rel`` is the directory relative to the workspace (``certs/step/<step>``).
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


def _remove_slot_orphans(
    ws: Workspace, directory: Path, service: str, *, keep: Mapping[Path, Path] | Collection[Path]
) -> list[Path]:
    """Delete ``service``'s files in ``directory`` that have no database row.

    ``keep``: a shared batch's temp files (its ``pending`` map, whose values are the temps,
    or a collection of temp paths). Serials are looked up one by one and the keep set is
    built only when the directory holds a temp file: loading every serial, or every pending
    temp, once per call made bulk issuance and renewal quadratic. Other services' files are
    left alone (``remove_orphans`` sweeps the whole tree).
    """
    if not directory.is_dir():
        return []
    known: dict[str | None, bool] = {None: False}
    kept: set[Path] | None = None
    removed = []
    for entry in os.scandir(directory):
        if not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        target = temp_target(entry.name)
        if target is not None:
            if split_name(target)[0] != service:
                continue
            if kept is None:
                kept = set(keep.values() if isinstance(keep, Mapping) else keep)
            orphan = path not in kept
        else:
            owner, serial = split_name(entry.name)
            if owner != service:
                continue
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
            if stale or serial_of(name) not in known:
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
