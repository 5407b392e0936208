"""Read one input file (inventory, scanner report, policy) as UTF-8 text, or say why not.

Every reader of user-named files goes through ``read_input_text`` so each gets the same
answers to hostile paths, as one located ``InputError`` subclass and never a hang:

- a directory, a character or block device (``/dev/zero``, a terminal) or a socket is
  refused before any byte is read: it is not a file, and ``/dev/zero`` would otherwise be
  read up to the size guard;
- a FIFO is opened without blocking (no writer yet: the read ends at once, as an empty
  file), then read to its end: ``<(gitleaks ...)`` process substitution still works;
- an unreadable file names the reason and what to check;
- size (``yamlsafe.max_bytes``) and UTF-8 are checked, a BOM dropped (Excel writes one).
"""

from __future__ import annotations

import errno
import os
import stat

from workbench.errors import InputError, Problem
from workbench.inventory.yamlsafe import decode_text, max_bytes, too_large

__all__ = ["read_input_text"]

_CHUNK = 1 << 20

_READABLE = "make the file readable (chmod, chown) or run as its owner"
_FIX = {
    errno.ENOENT: "check the path",
    errno.EACCES: _READABLE,
    errno.EPERM: _READABLE,
    errno.ENOTDIR: "check the path",
    errno.ELOOP: "check the path",
    errno.ENAMETOOLONG: "check the path",
    errno.EISDIR: "name a file inside it",
}


def _kind(mode: int) -> str | None:
    """What a non-file is called, or None for what may be read (regular file, FIFO)."""
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory; name a file inside it"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file; name a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file; name a file"
    return "is not a regular file; name a file"


def _cannot(exc: OSError) -> str:
    fix = _FIX.get(exc.errno or 0, "check the path and the file")
    return f"cannot read: {exc.strerror or exc}; {fix}"


def read_input_text(
    path: str | os.PathLike[str],
    *,
    error: type[InputError] = InputError,
    limit: int | None = None,
) -> tuple[str, str]:
    """``(text, name)`` of the file at ``path``; ``error`` with one located problem if not.

    ``name`` is the path as the user gave it (used in every later location).
    """
    name = str(path)
    limit = max_bytes(limit)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise error(Problem(name, 0, 0, _cannot(exc))) from None
    try:
        info = os.fstat(fd)
        why = _kind(info.st_mode)
        if why:
            raise error(Problem(name, 0, 0, why))
        if info.st_size > limit:
            raise error(Problem(name, 0, 0, too_large(limit)))
        # A FIFO opened without a writer reads as empty; with one, wait for its data.
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise error(Problem(name, 0, 0, _cannot(exc))) from None
    finally:
        os.close(fd)
    text, problems = decode_text(b"".join(chunks), name, limit=limit)
    if text is None:
        raise error(problems)
    return text, name
