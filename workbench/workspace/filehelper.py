"""Many new files in one directory: created in this process, or by a helper process on the
other core while this one goes on signing.

Issuing a step is two kinds of work: signing (CPU in this process; ``cryptography`` keeps
the GIL while it generates and signs) and creating files (mostly kernel time: on ext4
without a journal, allocating an inode scans past the ones freed in the last minutes). A
thread cannot overlap them: measured on tmpfs, a writer thread beside the signing loop gave
nothing (56 vs 57 us a certificate), the GIL passing to it about once per switch interval.
A process can: :class:`HelperFiles` streams each file's name, mode and bytes over a pipe to
``python -I -S workbench/newfile.py DIR_FD``, which creates them with the same
:func:`workbench.newfile.create_new` as the in-process path (``O_EXCL|O_NOFOLLOW`` relative
to the directory's descriptor, exact mode), and reports how many it created. See
bench/issue_rate.py for the figures.

What crosses the pipe is the files' bytes (private keys included), the same bytes the
in-process path writes to disk; the helper inherits no secret variable (req. 29) and no
descriptor but the directory's. :func:`new_files` picks the helper only for many files (its
start, ~10 ms, costs more than it saves on a few) and falls back to this process when it
cannot start one.

Both give the same interface: ``create(name, data, mode)``, then ``close()``; ``created``
(full paths) holds every file that exists because of the writer, also after a failure, so
the caller can remove them. A failure is the ``OSError`` the creation met
(``FileExistsError`` with the name when anything is already there), raised by ``create`` or
``close``. A helper that dies without its report raises :class:`WorkspaceError`; what it
wrote then is left as orphans, which the next bulk issuance sweeps (no row names them).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from workbench.errors import WorkspaceError
from workbench.newfile import create_new, frame
from workbench.secrets import child_environ

__all__ = ["HELPER_MIN_FILES", "HelperFiles", "LocalFiles", "new_files"]

HELPER_MIN_FILES = 300
"""From this many files on, a helper process creates them (about 100 certificates)."""

_SCRIPT = str(Path(__file__).resolve().parents[1] / "newfile.py")
_PIPE_BYTES = 1 << 20  # room for ~400 certificates while the helper starts
_F_SETPIPE_SZ = 1031  # Linux fcntl
_WRITE_BUFFER = 1 << 16  # one write (and one wake-up of the helper) per ~40 certificates


class LocalFiles:
    """Creates the files in this process, one after the other."""

    def __init__(self, dir_fd: int, base: str, created: list[str]) -> None:
        self._dir_fd, self._base, self.created = dir_fd, base, created
        self._seen: dict[int, bool] = {}

    def create(self, name: str, data: bytes, mode: int) -> None:
        create_new(name, data, mode, dir_fd=self._dir_fd, seen=self._seen)
        self.created.append(f"{self._base}/{name}")

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class HelperFiles:
    """Creates the files in a helper process, in the order given (see the module text)."""

    def __init__(self, dir_fd: int, base: str, created: list[str]) -> None:
        self._base, self.created = base, created
        self._sent: list[str] = []
        self._done = False
        self._proc = subprocess.Popen(  # noqa: S603 (our interpreter, our file, no shell)
            [sys.executable, "-I", "-S", _SCRIPT, str(dir_fd)],
            bufsize=_WRITE_BUFFER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(dir_fd,),
            env=child_environ(),  # no workbench secret, no old key (req. 29)
            cwd="/",
        )
        with contextlib.suppress(OSError, ValueError, AttributeError):
            import fcntl

            fcntl.fcntl(self._proc.stdin.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]

    @property
    def pid(self) -> int:
        return self._proc.pid

    def create(self, name: str, data: bytes, mode: int) -> None:
        if self._done:
            raise WorkspaceError("the file helper is closed: start another")
        try:
            self._proc.stdin.write(frame(name, data, mode))  # type: ignore[union-attr]
        except BrokenPipeError:  # it stopped at an error: raise that error
            self.close()
            raise WorkspaceError("the file helper stopped without an error: rerun") from None
        self._sent.append(name)

    def close(self) -> None:
        """Wait for the helper to create what it was sent; raise the first error it met."""
        if self._done:
            return
        self._done = True
        out, err = self._proc.communicate()
        report = _report(out)
        if report is None:
            status = self._proc.returncode
            why = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"status {status}"]
            raise WorkspaceError(
                f"the file helper stopped before its report ({why[0]}); files it wrote are "
                "swept at the next issuance"
            )
        count = report.get("created")
        if not isinstance(count, int) or not 0 <= count <= len(self._sent):
            raise WorkspaceError(f"the file helper's report makes no sense: {report!r}")
        self.created.extend(f"{self._base}/{name}" for name in self._sent[:count])
        if "errno" in report:
            code, name = int(report["errno"]), str(report.get("name", ""))
            message = str(report.get("message", ""))
            if code == 0:
                raise WorkspaceError(f"the file helper read a torn frame: {message}")
            raise OSError(code, message, name)  # FileExistsError for EEXIST

    def __enter__(self) -> HelperFiles:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        # Leaving on an error: let the helper finish what it was sent, so that ``created``
        # names every file it made (the caller removes them); the first error stays.
        with contextlib.suppress(Exception):
            self.close()


def _report(out: bytes) -> dict | None:
    try:
        report = json.loads(out.decode("ascii").strip().splitlines()[-1])
    except (UnicodeDecodeError, IndexError, json.JSONDecodeError):
        return None
    return report if isinstance(report, dict) else None


def _can_start_helper() -> bool:
    """A POSIX Python interpreter that can run the helper's file (not a frozen binary)."""
    return (
        os.name == "posix"
        and bool(sys.executable)
        and not getattr(sys, "frozen", False)
        and os.path.isfile(_SCRIPT)
    )


def new_files(
    dir_fd: int, base: str, created: list[str], *, expected: int
) -> LocalFiles | HelperFiles:
    """The writer for ``expected`` new files in the directory ``dir_fd`` (at path ``base``):
    a helper process from :data:`HELPER_MIN_FILES` files on, else this process."""
    if expected >= HELPER_MIN_FILES and _can_start_helper():
        try:
            return HelperFiles(dir_fd, base, created)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.EACCES, errno.EAGAIN, errno.ENOMEM):
                raise
    return LocalFiles(dir_fd, base, created)
