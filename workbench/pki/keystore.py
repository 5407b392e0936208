"""Secure, atomic file writes for keys and certificates (security requirements 9 and 24).

Every write goes to a fresh temp file in the target directory, created with
``O_CREAT|O_EXCL|O_NOFOLLOW`` and its mode set by ``fchmod`` (so the umask does not matter),
then ``os.replace``-d over the target. Directories are walked from ``base`` one component
at a time with ``O_NOFOLLOW`` directory fds, so a symlink planted anywhere below ``base`` (or
at the target itself) is refused with UnsafePathError instead of followed, and a swap
between check and use cannot redirect the write.

The file writes themselves are :mod:`workbench.fsio`'s (the one durable-write layer); this
module adds the walk from a trusted base and the key and certificate defaults.

fsync costs ~8 ms per file here, so it is opt-in (``durable=True``); a caller writing many
files can write them with ``durable=False`` and then call ``fsync_paths`` once.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from workbench.errors import PKIError, UnsafePathError
from workbench.fsio import DIR_FLAGS, fsync_file, replace_in_dir
from workbench.pki.keys import PrivateKey

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "PUBLIC_DIR_MODE",
    "PUBLIC_FILE_MODE",
    "SecureDirectory",
    "fsync_paths",
    "write_private_key",
    "write_public_file",
    "write_secret_file",
]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
PUBLIC_FILE_MODE = 0o644
PUBLIC_DIR_MODE = 0o755

_DIR_FLAGS = DIR_FLAGS


def _open_dir(name: str, dir_fd: int, *, mode: int, shown: Path) -> int:
    """Open one directory component without following symlinks; create it if missing."""
    for attempt in (0, 1):
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            if attempt:
                raise PKIError(f"cannot open directory {shown}: it keeps disappearing") from None
            try:
                os.mkdir(name, mode, dir_fd=dir_fd)
            except FileExistsError:
                continue
            fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            os.fchmod(fd, mode)  # mkdir's mode is filtered by the umask
            return fd
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafePathError(
                    f"{shown} is a symlink or not a directory: refusing to follow it; remove it"
                ) from None
            raise PKIError(f"cannot open directory {shown}: {exc.strerror}") from None
    raise AssertionError("unreachable")


def _check_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise UnsafePathError(f"bad file name {name!r}: use a plain name inside the directory")
    return name


class SecureDirectory:
    """A verified directory below a trusted base, held open by fd; write files into it.

    Open it once and write several files (key, cert, chain) to skip re-walking the path:
    ``with SecureDirectory.open(ws / "keys" / svc, base=ws) as d: d.write("client.key", pem)``.
    Private directories are forced to 0700 on open and files default to 0600; public ones
    default to 0755/0644.
    """

    def __init__(self, fd: int, path: Path, *, private: bool) -> None:
        self._fd = fd
        self.path = path
        """The directory path as given."""
        self.private = private
        """True when the directory is 0700 and files default to 0600."""

    @classmethod
    def open(
        cls, path: Path | str, *, base: Path | str | None = None, private: bool = True
    ) -> SecureDirectory:
        """Walk from ``base`` (default: the parent of ``path``) to ``path`` with O_NOFOLLOW,
        creating missing directories; refuse symlinks below ``base`` and paths leaving it."""
        path = Path(path)
        if "\x00" in str(path):
            raise UnsafePathError(f"bad path {str(path)!r}: it contains NUL")
        base_path = Path(base) if base is not None else path.parent
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base_path))
        parts = [p for p in Path(rel).parts if p not in ("", ".")]
        if parts and parts[0] == "..":
            raise UnsafePathError(f"{path} is outside {base_path}: refusing to write there")
        dir_mode = PRIVATE_DIR_MODE if private else PUBLIC_DIR_MODE
        try:
            fd = os.open(base_path, _DIR_FLAGS & ~os.O_NOFOLLOW)  # base is trusted
        except FileNotFoundError:
            os.makedirs(base_path, exist_ok=True)
            fd = os.open(base_path, _DIR_FLAGS & ~os.O_NOFOLLOW)
        shown = base_path
        try:
            for part in parts:
                shown = shown / part
                nfd = _open_dir(part, fd, mode=dir_mode, shown=shown)
                os.close(fd)
                fd = nfd
            if private:
                os.fchmod(fd, PRIVATE_DIR_MODE)
                if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_DIR_MODE:
                    raise PKIError(f"cannot make {path} mode 700; check its owner")
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path, private=private)

    def write(
        self,
        name: str,
        data: bytes,
        *,
        mode: int | None = None,
        durable: bool = False,
        replace: bool = True,
    ) -> Path:
        """Atomically write ``name`` (temp file + rename); refuse a symlink at ``name``."""
        _check_name(name)
        mode = mode if mode is not None else PRIVATE_FILE_MODE if self.private else PUBLIC_FILE_MODE
        dfd = self._fd
        try:
            existing = os.lstat(name, dir_fd=dfd)
        except FileNotFoundError:
            existing = None
        if existing is not None:
            if stat.S_ISLNK(existing.st_mode):
                raise UnsafePathError(
                    f"{self.path / name} is a symlink: refusing to follow it; remove it"
                )
            if not stat.S_ISREG(existing.st_mode):
                raise UnsafePathError(f"{self.path / name} exists and is not a regular file")
            if not replace:
                raise PKIError(f"{self.path / name} already exists: refusing to overwrite it")
        replace_in_dir(dfd, name, data, mode, fsync=durable)
        return self.path / name

    def write_private_key(
        self,
        name: str,
        key: PrivateKey,
        *,
        password: bytes | None = None,
        durable: bool = False,
        replace: bool = True,
    ) -> Path:
        """PKCS#8 PEM private key, mode 0600 (see ``write_private_key``)."""
        data = _key_pem(key, password)
        return self.write(name, data, mode=PRIVATE_FILE_MODE, durable=durable, replace=replace)

    def fsync(self) -> None:
        """fsync the directory (after non-durable writes whose files were fsynced)."""
        os.fsync(self._fd)

    def close(self) -> None:
        """Release the directory fd."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SecureDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _key_pem(key: PrivateKey, password: bytes | None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def _write(
    path: Path | str,
    data: bytes,
    *,
    private: bool,
    base: Path | str | None,
    durable: bool,
    replace: bool,
) -> Path:
    path = Path(path)
    _check_name(path.name)
    if base is None:
        parent = path.parent
        base = parent.parent if parent != parent.parent else parent
    with SecureDirectory.open(path.parent, base=base, private=private) as d:
        return d.write(path.name, data, durable=durable, replace=replace)


def write_secret_file(
    path: Path | str,
    data: bytes,
    *,
    base: Path | str | None = None,
    durable: bool = False,
    replace: bool = True,
) -> Path:
    """Write ``data`` to ``path`` mode 0600, its directory 0700 (created below ``base``).

    ``base`` is the trusted root (e.g. the workspace); without it, the grandparent of
    ``path``. Raises UnsafePathError for a symlink at the path or at any directory below
    ``base``, and for a path that leaves ``base``.
    """
    return _write(path, data, private=True, base=base, durable=durable, replace=replace)


def write_public_file(
    path: Path | str,
    data: bytes,
    *,
    base: Path | str | None = None,
    durable: bool = False,
    replace: bool = True,
) -> Path:
    """Write a public file (certificate, chain, CRL) mode 0644, atomically, no symlinks."""
    return _write(path, data, private=False, base=base, durable=durable, replace=replace)


def write_private_key(
    path: Path | str,
    key: PrivateKey,
    *,
    password: bytes | None = None,
    base: Path | str | None = None,
    durable: bool = False,
    replace: bool = True,
) -> Path:
    """Write a PKCS#8 PEM private key (encrypted if ``password``) like ``write_secret_file``.

    Leaf keys use PKCS#8 so nginx, curl and openssl read them; with a password that is
    PBES2/PBKDF2 at cryptography's fixed 2048 rounds, adequate for a short-lived leaf but
    not for a CA key (see ``workbench.pki.ca`` for those).
    """
    data = _key_pem(key, password)
    return write_secret_file(path, data, base=base, durable=durable, replace=replace)


def fsync_paths(paths: Iterable[Path | str]) -> None:
    """fsync each file, then each distinct parent directory once (batched durability)."""
    dirs: set[str] = set()
    for p in paths:
        fsync_file(p)
        dirs.add(os.path.dirname(os.path.abspath(p)))
    for d in sorted(dirs):
        fd = os.open(d, _DIR_FLAGS)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
