"""Creating one new file, exactly its mode, never through a link; and the helper process
that creates many of them for another process (``python -I -S newfile.py DIR_FD``).

Standard library only, on purpose: the helper runs this file by its path, without the
package (no ``workbench/__init__``, no site), so it starts in ~10 ms instead of ~50 ms.
:mod:`workbench.fsio` re-exports :func:`create_new` and :func:`write_all`: there is one
implementation of creating a file. ``workbench.workspace.filehelper`` starts the helper
and speaks its protocol.

The protocol, on the helper's stdin: frames of ``!HHI`` (name length, mode, data length),
the name (UTF-8, one path component) and the data. Each frame is created relative to the
directory descriptor given on the command line, in order. At end of input, or at the first
error, the helper writes one JSON line on stdout, ``{"created": N}`` plus ``errno``,
``name`` and ``message`` on an error (the first N names of the input exist because of it,
the others do not), and exits; after an error it reads nothing more.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import struct
import sys

NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
"""A new file, never an existing one and never through a symlink."""

FRAME = struct.Struct("!HHI")
"""A helper frame's header: name length, mode, data length."""


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (os.write may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def create_new(
    name: str | os.PathLike[str],
    data: bytes,
    mode: int,
    *,
    dir_fd: int | None = None,
    fsync: bool = False,
    seen: dict[int, bool] | None = None,
) -> None:
    """Create ``name`` (relative to ``dir_fd`` if given) holding ``data``, exactly ``mode``.

    Raises FileExistsError when anything (a file or a planted symlink) is already there; the
    caller decides what that means. A failed write removes the half-written file.

    ``seen``: for many files in one directory, a map the caller keeps from mode to whether
    ``open`` gave that mode exactly there (looked at once per mode, with ``fstat``); while it
    does, the ``fchmod`` is spared. The umask and default ACLs only ever remove bits, so no
    file is created broader than ``mode`` either way; the ``fchmod`` only restores bits.
    """
    exact = None if seen is None else seen.get(mode)
    fd = os.open(name, NEW_FILE_FLAGS, 0o600 if seen is None else mode, dir_fd=dir_fd)
    try:
        if seen is not None and exact is None:
            exact = seen[mode] = stat.S_IMODE(os.fstat(fd).st_mode) == mode
        if not exact:
            os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask (req. 9)
        write_all(fd, data)
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=dir_fd)
        raise
    os.close(fd)


def frame(name: str, data: bytes, mode: int) -> bytes:
    """One helper frame: create ``name`` holding ``data`` with ``mode``."""
    encoded = name.encode("utf-8")
    return FRAME.pack(len(encoded), mode, len(data)) + encoded + data


def serve(dir_fd: int, source, report) -> int:  # noqa: ANN001 (binary files)
    """Create every framed file of ``source`` in ``dir_fd``; write the JSON report to
    ``report``; the number of files created."""
    created, seen = 0, {}
    result: dict[str, object] = {}
    while True:
        head = source.read(FRAME.size)
        if not head:
            break
        try:
            if len(head) != FRAME.size:
                raise EOFError
            name_len, mode, data_len = FRAME.unpack(head)
            name = source.read(name_len).decode("utf-8")
            data = source.read(data_len)
            if len(name) == 0 or len(data) != data_len or "/" in name or name in (".", ".."):
                raise EOFError
        except (EOFError, UnicodeDecodeError):
            result = {"errno": 0, "name": "", "message": "a torn or malformed frame"}
            break
        try:
            create_new(name, data, mode, dir_fd=dir_fd, seen=seen)
        except OSError as exc:
            result = {"errno": exc.errno or 0, "name": name, "message": exc.strerror or str(exc)}
            break
        created += 1
    report.write(json.dumps({"created": created, **result}).encode("ascii") + b"\n")
    report.flush()
    return created


if __name__ == "__main__":
    import signal

    # Ctrl-C reaches the whole process group: the issuing process decides what stops; this
    # one finishes what it was sent and reports, so that every file it made is accounted for.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(int(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
