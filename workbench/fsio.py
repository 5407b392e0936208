"""The one durable-write layer: every file the workbench writes goes through here.

Security requirements 9 and 24: files are created ``O_CREAT|O_EXCL|O_NOFOLLOW`` with their
mode set by ``fchmod`` (exactly 0600 for secrets whatever the umask), directories are
opened with ``O_NOFOLLOW`` and forced to their mode (0700 for private ones), a symlink at a
target or directory is refused, never followed, and replacing a file is temp file in the
same directory + optional fsync + rename. Creating one file (:func:`create_new`) lives in
the standard-library-only :mod:`workbench.newfile`, which the bulk writer's helper process
runs by itself; it is re-exported here. Used by workspace/atomic.py (re-exports),
pki/keystore.py (key directories walked by fd), workspace/store.py (the audit JSONL appends),
workspace/certbulk.py (serial-named files created once) and inventory/dump.py.

An atomic write (req. 24) goes to a fresh temp file in the target's directory and replaces
the target (a regular file or nothing, never a device or pipe) with ``os.replace``. Killed
at any point, the target holds the old content or the new; at worst a ``.*.tmp`` file is
left behind, which :func:`remove_stale_temps` cleans.

Durability (surviving a power cut, not just a kill) costs an fsync per file and one per
directory. :class:`DurableBatch` amortises that for bulk writes: it writes every temp file,
flushes the whole file system once (``syncfs``), renames them all, and flushes again once,
so 6,000 files cost two flushes instead of 12,000 fsyncs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from workbench.errors import UnsafePathError, WorkspaceError
from workbench.newfile import NEW_FILE_FLAGS, create_new, write_all

__all__ = [
    "DIR_FLAGS",
    "NEW_FILE_FLAGS",
    "DurableBatch",
    "FlushAhead",
    "append_durable",
    "atomic_write",
    "create_new",
    "create_private_file",
    "force_mode",
    "fsync_dir",
    "fsync_file",
    "remove_stale_temps",
    "replace_in_dir",
    "spread_subdirectories",
    "sync_filesystem",
    "temp_name",
    "write_all",
]

_TMP_SUFFIX = ".tmp"
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""A directory held by fd, never through a symlink."""


def temp_name(name: str) -> str:
    """The temp file name for ``name`` (same directory; ``remove_stale_temps`` finds it)."""
    return f".{name}.{secrets.token_hex(6)}{_TMP_SUFFIX}"


def _temp_name(path: Path) -> Path:
    return path.with_name(temp_name(path.name))


def force_mode(fd: int, mode: int) -> None:
    """Give the open file or directory exactly ``mode`` (mkdir and open go through the umask,
    fchmod does not)."""
    if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
        os.fchmod(fd, mode)


def replace_in_dir(dir_fd: int, name: str, data: bytes, mode: int, *, fsync: bool) -> None:
    """Atomically replace ``name`` in the directory held by ``dir_fd``: temp file in the same
    directory, exactly ``mode``, fsync of the file and the directory if ``fsync``, rename.
    The caller has already refused a symlink or a non-file at ``name``."""
    tmp = temp_name(name)
    create_new(tmp, data, mode, dir_fd=dir_fd, fsync=fsync)
    try:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    if fsync:
        os.fsync(dir_fd)


def create_private_file(path: str | os.PathLike[str]) -> None:
    """Create an empty file 0600 (never through a symlink, never over an existing file)."""
    create_new(path, b"", 0o600)


def append_durable(path: str | os.PathLike[str], data: bytes) -> None:
    """Append ``data`` to the existing file ``path`` (no symlinks) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike[str]) -> None:
    """fsync one existing file (not through a symlink)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes, mode: int, *, fsync: bool) -> Path:
    """Write ``data`` into a new temp file next to ``path``; return the temp path."""
    try:
        kind = stat.S_IFMT(os.lstat(path).st_mode)
    except FileNotFoundError:
        kind = stat.S_IFREG  # a new file
    except NotADirectoryError:
        raise WorkspaceError(f"{path.parent} is not a directory: name a file in one") from None
    if kind == stat.S_IFLNK:
        raise UnsafePathError(
            f"refusing symlink at {path}: remove it; files are never written through links"
        )
    if kind != stat.S_IFREG:
        # The rename would put a plain file where a device, pipe or socket was (as root,
        # /dev/null for every program on the machine); over a directory it fails anyway.
        what = "a directory" if kind == stat.S_IFDIR else "a device, pipe or socket"
        raise UnsafePathError(f"refusing to replace {path}: it is {what}; name a file to write")
    tmp = _temp_name(path)
    try:
        create_new(tmp, data, mode, fsync=fsync)
    except FileNotFoundError:
        raise WorkspaceError(f"directory {path.parent} does not exist: create it first") from None
    return tmp


def _unlink_quietly(p: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(p)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a directory so a rename or a new entry in it survives a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644, durable: bool = True
) -> Path:
    """Replace ``path`` with ``data`` atomically; the file gets exactly ``mode``.

    ``durable=True`` fsyncs the file before the rename and the directory after it (~2 fsyncs);
    ``durable=False`` is still atomic against a killed process, just not against a power cut.
    A symlink at ``path`` is refused (req. 9).
    """
    target = Path(path)
    tmp = _write_temp(target, bytes(data), mode, fsync=durable)
    try:
        os.replace(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if durable:
        fsync_dir(target.parent)
    return target


def remove_stale_temps(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete temp files a killed writer left in ``directory``; return what was removed."""
    removed = []
    for entry in os.scandir(directory):
        if (
            entry.name.startswith(".")
            and entry.name.endswith(_TMP_SUFFIX)
            and entry.is_file(follow_symlinks=False)
        ):
            _unlink_quietly(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


_libc: ctypes.CDLL | None | bool = False


def _syncfs_lib() -> ctypes.CDLL | None:
    """libc when it has ``syncfs`` (Linux), else None; looked up once."""
    global _libc
    if _libc is False:
        name = ctypes.util.find_library("c")
        try:
            lib = ctypes.CDLL(name, use_errno=True) if name else None
        except OSError:  # pragma: no cover - exotic platforms
            lib = None
        _libc = lib if lib is not None and hasattr(lib, "syncfs") else None
    return _libc if isinstance(_libc, ctypes.CDLL) else None


# Linux ioctls on a file's attribute flags (``chattr``/``lsattr``): an int, read and written.
_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_TOPDIR_FL = 0x00020000


def spread_subdirectories(directory: str | os.PathLike[str]) -> bool:
    """Ask the file system to place each new subdirectory of ``directory`` in a block group
    of its own (``chattr +T``, ext2/3/4's Orlov hint for the top of unrelated hierarchies).

    Why: on ext4 without a journal, creating an inode skips every inode freed in the last
    minutes in its block group, and a new directory (and so its files) otherwise lands in
    its parent's group, where a build agent or a test run has just deleted thousands of
    files: 345-545 us a file instead of 24 us measured on this VM (bench/issue_rate.py).
    Best effort, never through a link: False where the file system has no such flag.
    """
    try:
        fd = os.open(directory, DIR_FLAGS)
    except OSError:
        return False
    try:
        import array
        import fcntl

        flags = array.array("i", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, flags, True)
        if not flags[0] & _FS_TOPDIR_FL:
            flags[0] |= _FS_TOPDIR_FL
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, flags)
        return True
    except (OSError, ImportError):
        return False  # tmpfs, xfs, not Linux, not the owner: the allocator's default
    finally:
        os.close(fd)


def sync_filesystem(directory: str | os.PathLike[str]) -> None:
    """Flush every dirty page of the file system holding ``directory`` (one call).

    Linux ``syncfs(2)`` via ctypes (which lets other threads run meanwhile); elsewhere
    ``os.sync()`` (all file systems). Either is one flush instead of one per file.
    """
    lib = _syncfs_lib()
    if lib is not None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if lib.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()


class FlushAhead:
    """Flush a file system in a background thread while a bulk writer is still writing.

    Use as a context manager around the writes::

        with FlushAhead(directory) as flush:
            for ...:
                create_new(...)
                flush.wrote(1)
            flush.finish()  # every file written above is on disk here

    Every ``every`` files, if no flush is running, the thread starts one (``syncfs``, which
    releases the GIL: the writer goes on). :meth:`finish` waits for the running one and
    flushes once more in the caller: that last flush is what durability relies on (all
    written before it is on disk after it); the ones ahead only leave it less to write, so
    a failed one is ignored. Leaving the block without ``finish()`` (an error) stops the
    thread and flushes nothing more. ``enabled=False``: no thread and no flush at all.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, enabled: bool = True, every: int = 256
    ) -> None:
        self.directory = directory
        self.enabled = enabled
        self.every = every
        self.flushes = 0
        """Flushes done ahead (in the thread)."""
        self._count = 0
        self._busy = False
        self._stop = False
        self._final = False
        self._final_error: BaseException | None = None
        self._go = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FlushAhead:
        if self.enabled:
            _syncfs_lib()  # look libc up here, not in two threads at once
            self._thread = threading.Thread(target=self._run, name="flush-ahead", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._join()

    def wrote(self, count: int = 1) -> None:
        """Count ``count`` more files written; start a flush ahead when due and none runs."""
        self._count += count
        if self._count >= self.every and self._thread is not None and not self._busy:
            self._count = 0
            self._busy = True
            self._go.set()

    def finish(self) -> None:
        """Wait for the flush ahead, then flush everything written so far (in the caller)."""
        self._join()
        if self.enabled:
            sync_filesystem(self.directory)

    def finish_behind(self) -> None:
        """Start :meth:`finish`'s last flush in the thread (after the one ahead, if any) and
        return at once: the caller prepares its rows meanwhile and calls :meth:`wait` before
        any of them can commit. Call once every file is written."""
        if self._thread is None:
            return
        self._final = True
        self._go.set()

    def wait(self) -> None:
        """Wait for the flush :meth:`finish_behind` started; raise its error, if any."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._final_error is not None:
            raise self._final_error

    def _join(self) -> None:
        if self._thread is not None:
            self._stop = True
            self._go.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            if self._final:  # the last flush: what durability relies on, so its error counts
                try:
                    sync_filesystem(self.directory)
                except BaseException as exc:  # noqa: BLE001 (raised again by wait())
                    self._final_error = exc
                return
            if self._stop:
                return
            try:
                sync_filesystem(self.directory)
                self.flushes += 1
            except OSError:
                pass  # only the caller's final flush counts; it reports its own failure
            finally:
                self._busy = False


@dataclass
class DurableBatch:
    """Write many files atomically and durably with two file-system flushes in total.

    Use as a context manager::

        with DurableBatch() as batch:
            batch.write(dir / "a.crt", pem, mode=0o644)
            batch.write(dir / "a.key", key, mode=0o600)
        # here every file is in place and on disk

    Files appear at their final paths only when the block exits without an exception
    (temp files are flushed, then renamed, then the directories are flushed); on an exception
    the temp files are removed and no target changes. Each file is individually atomic; a
    crash during the final renames may leave some files new and some old, never torn.
    ``durable=False`` skips the flushes (tests, scratch output).
    """

    durable: bool = True
    """Flush to disk at exit (two syncfs calls). False: atomic against kills only."""
    pending: dict[Path, Path] = field(default_factory=dict)
    """Final path -> temp path, in write order."""
    written: list[Path] = field(default_factory=list)
    """Final paths put in place at exit."""
    directories: set[Path] = field(default_factory=set)
    """Directories created or written into (flushed at exit)."""

    def write(self, path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
        """Stage ``data`` for ``path``; a second write to the same path replaces the first."""
        target = Path(path)
        old = self.pending.pop(target, None)
        if old is not None:
            _unlink_quietly(old)
        self.pending[target] = _write_temp(target, bytes(data), mode, fsync=False)
        self.directories.add(target.parent)
        return target

    def add_directory(self, path: str | os.PathLike[str]) -> None:
        """Remember a directory created during the batch so its entry is flushed too."""
        self.directories.add(Path(path))

    def __enter__(self) -> DurableBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
            return
        self.commit()

    def abort(self) -> None:
        """Drop every staged file; no target is touched."""
        for tmp in self.pending.values():
            _unlink_quietly(tmp)
        self.pending.clear()

    def commit(self) -> list[Path]:
        """Flush staged data, rename everything into place, flush the directory entries."""
        if not self.pending:
            return []
        filesystems = {os.stat(d).st_dev: d for d in self.directories}
        if self.durable:
            for d in filesystems.values():  # data before names: never an empty file after a crash
                sync_filesystem(d)
        try:
            for target, tmp in list(self.pending.items()):
                os.replace(tmp, target)
                del self.pending[target]
                self.written.append(target)
        except BaseException:
            self.abort()
            raise
        if self.durable:
            for d in filesystems.values():
                sync_filesystem(d)
        return list(self.written)
