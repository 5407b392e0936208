"""Where a certificate's files go: one flat directory per step (security requirements 9, 21).

Layout (every name checked as by ``safe_join``; directories 0700, keys and PKCS#12 0600)::

    certs/step/<step>/<service>.<serial>.crt | .key | .chain.pem | .p12   (step certificates)
    certs/<kind>/<service>.<serial>.*                                     (no step: ca, server)

One directory per step, not one per service: a directory per certificate was a fourth inode
per certificate, and creating inodes is the dearest part of bulk issuance on ext4 (without
a journal every allocation scans past the inodes freed in the last minutes). Workspaces
written before keep their ``<step>/<service>/<serial>.*`` files: rows name their paths, and
the orphan sweep (:func:`serial_of`) reads both forms of name.

The service id is one safe name (it may hold dots) and the serial is hex, so a name splits
unambiguously from the right once its suffix is cut.
"""

from __future__ import annotations

import os
import re
import stat
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import UnsafePathError, WorkspaceError
from workbench.fsio import spread_subdirectories
from workbench.workspace.certs import normalise_serial
from workbench.workspace.paths import check_name, ensure_private_dir

if TYPE_CHECKING:
    from workbench.workspace.store import Workspace

__all__ = [
    "CERTS_DIR",
    "SUFFIXES",
    "checked_dir",
    "ensure_dirs",
    "make_slot_dir",
    "file_name",
    "serial_of",
    "slot_dir_parts",
    "split_name",
    "temp_target",
]

CERTS_DIR = "certs"
SUFFIXES = ("crt", "key", "chain.pem", "p12")
_CUT = tuple(f".{s}" for s in sorted(SUFFIXES, key=len, reverse=True))  # .chain.pem first
_TEMP = re.compile(r"\.(.+)\.[0-9a-f]{12}\.tmp")  # fsio.temp_name(name)


def slot_dir_parts(step_key: str | None, kind: str) -> tuple[str, ...]:
    """The directory holding a step's (or a kind's) certificate files, below the workspace."""
    if step_key is not None:
        return (CERTS_DIR, "step", step_key)
    return (CERTS_DIR, check_name(kind))


def file_name(service: str, serial: str, suffix: str) -> str:
    """``<service>.<serial>.<suffix>``; ``service`` is a checked name and ``serial`` hex."""
    return f"{service}.{serial}.{suffix}"


def split_name(name: str) -> tuple[str, str | None]:
    """``(service, serial)`` of a certificate file name; ``service`` is ``""`` for the
    older ``<serial>.<suffix>`` names, ``serial`` None when the name holds none."""
    for cut in _CUT:
        if name.endswith(cut):
            service, _, serial = name[: -len(cut)].rpartition(".")
            try:
                return service, normalise_serial(serial)
            except WorkspaceError:
                return service, None
    return "", None


def serial_of(name: str) -> str | None:
    """The serial a certificate file name carries (either layout), or None."""
    return split_name(name)[1]


def temp_target(name: str) -> str | None:
    """The file a ``fsio`` temp file was going to become, or None if ``name`` is no temp."""
    match = _TEMP.fullmatch(name)
    return match.group(1) if match else None


def checked_dir(ws: Workspace, parts: tuple[str, ...]) -> Path:
    """``safe_join(ws.directory, *parts)`` for the issuance paths (req. 9, 21), cheaper.

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


def ensure_dirs(root: Path, parts: tuple[str, ...]) -> None:
    """Make every directory from ``root`` down through ``parts`` exist as 0700 (req. 9).

    One ``lstat`` for a directory that is already a 0700 directory (not a link), one
    ``mkdir`` + ``lstat`` for a new one; anything else (missing parent, symlink, file,
    other mode) goes through ``ensure_private_dir``, which creates, refuses or fixes it.
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


_FRESH_PREFIX = ".new-"


def _sweep_fresh_dirs(parent: str) -> None:
    """Remove the empty ``.new-*`` directories a process killed between its mkdir and its
    rename left here; ``rmdir`` removes nothing else (a file, a link, a full directory)."""
    with suppress(OSError):
        for name in os.listdir(parent):
            if name.startswith(_FRESH_PREFIX):
                with suppress(OSError):
                    os.rmdir(f"{parent}/{name}")


def make_slot_dir(root: Path, parts: tuple[str, ...]) -> None:
    """:func:`ensure_dirs`, with a new last directory placed in a fresh ext4 block group.

    ext4 without a journal skips, at every inode it allocates, the inodes freed in the
    last minutes in that block group; a directory's files go to the directory's group,
    and a new directory's group comes from the hash of its name under a ``chattr +T``
    parent (:func:`~workbench.fsio.spread_subdirectories`). A step recreated under the same
    name (a CI job that rebuilds its workspace) would so land where the last run's files
    were just deleted: 240-350 us a file instead of 24-30 us, measured on this VM. Made
    under a random name and renamed into place, it lands in a random group. Elsewhere this
    is one mkdir and one rename, as good as a plain mkdir. The caller holds the workspace's
    write lock, so nobody else makes the same directory meanwhile; empty ``.new-*``
    directories a killed run left are swept first.
    """
    ensure_dirs(root, parts[:-1])
    parent = f"{os.fspath(root)}/{'/'.join(parts[:-1])}"
    target = f"{parent}/{parts[-1]}"
    if not os.path.lexists(target):
        _sweep_fresh_dirs(parent)
        spread_subdirectories(parent)
        fresh = f"{parent}/{_FRESH_PREFIX}{os.urandom(8).hex()}"
        os.mkdir(fresh, 0o700)
        try:
            os.rename(fresh, target)
        except OSError:
            os.rmdir(fresh)  # something appeared there after all: checked below
    ensure_dirs(root, parts)
