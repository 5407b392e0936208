"""Safe path joining for names that become file names (security requirements 9 and 21).

Every name that comes from an inventory, a plan or a certificate (service ids, step keys,
serials) passes through :func:`safe_join` before it touches the file system. A name is one
path component from a small ASCII alphabet, so ``..``, ``/``, NUL, bidi controls and
look-alike letters (Cyrillic ``а`` for Latin ``a``) are refused by construction; the joined
path is then checked again after resolution, and any symlink on the way is refused rather
than followed.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from workbench.errors import UnsafePathError

__all__ = ["SAFE_ID_PATTERN", "check_name", "ensure_private_dir", "safe_join"]

from workbench.inventory.ids import SAFE_ID_PATTERN  # one alphabet for ids and file names


def check_name(name: object) -> str:
    """Return ``name`` if it is one safe path component, else raise UnsafePathError.

    ``fullmatch`` rather than ``match``: ``$`` alone would accept a trailing newline.
    """
    if not isinstance(name, str):
        raise UnsafePathError(f"path name must be a string, got {type(name).__name__}")
    if SAFE_ID_PATTERN.fullmatch(name) is None or ".." in name:
        raise UnsafePathError(
            f"unsafe name {_show(name)}: use 1-63 characters from a-z 0-9 . _ - "
            "starting with a letter or digit, no '..'"
        )
    return name


def _show(name: str) -> str:
    """A printable, escaped rendering of a hostile name (bidi controls shown as \\u escapes)."""
    shown = name if len(name) <= 80 else name[:77] + "..."
    return ascii(shown)


def safe_join(base: str | os.PathLike[str], *parts: str) -> Path:
    """Join ``parts`` under ``base``; each part must be one safe name (req. 21).

    Refuses any existing symlink below ``base`` on the way to the result (req. 9) and checks
    that the resolved result stays inside the resolved ``base``. ``base`` itself may be
    reached through symlinks (e.g. ``/tmp`` on some systems); what lies under it may not.
    The result need not exist.
    """
    if not parts:
        raise UnsafePathError("safe_join needs at least one name below the base directory")
    names = [check_name(p) for p in parts]
    root = Path(base).resolve()
    current = root
    for name in names:
        current = current / name
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError(
                f"refusing symlink at {current}: remove it; the workspace never follows links"
            )
    resolved = current.resolve()
    if resolved != current or not resolved.is_relative_to(root):
        raise UnsafePathError(f"path {current} leaves {root}: refusing")
    return current


def ensure_private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) and make it 0700 whatever the umask (req. 9).

    Parents that this call creates are 0700 too; existing parents are left alone. A symlink
    or a non-directory at ``path`` is refused.
    """
    p = Path(path)
    missing: list[Path] = []
    probe = p
    while not os.path.lexists(probe):
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for d in reversed(missing):
        # A concurrent creator may win the race; _chmod_dir_nofollow checks what is there.
        with contextlib.suppress(FileExistsError):
            os.mkdir(d, 0o700)
        _chmod_dir_nofollow(d)
    _chmod_dir_nofollow(p)
    return p


def _chmod_dir_nofollow(p: Path) -> None:
    """chmod 0700 through an O_NOFOLLOW descriptor: no window for a link swapped in between.

    ``mkdir``'s mode is filtered by the umask; ``fchmod`` is not.
    """
    _check_dir(p)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafePathError(f"cannot open directory {p} safely ({exc.strerror})") from None
    try:
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def _check_dir(p: Path) -> None:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"refusing symlink at {p}: remove it; private dirs are never links")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(f"{p} exists and is not a directory: move it away")
