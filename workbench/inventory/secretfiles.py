"""Findings about the files ``file:`` secret references point at (requirement 28).

``resolve_secret_ref`` refuses a key file that is a symlink, not a regular file, or open to
group or others, at the moment a probe needs it. ``inventory check`` says so earlier, while
there is time to fix it: one ``high`` finding per unsafe file, with the reason and the fix.
A file that does not exist yet is no finding (planning happens before the keys are placed).
Only metadata is read (``lstat``), never the value.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from workbench.inventory.model import Finding, Inventory, Severity

__all__ = ["secret_file_findings"]


def secret_file_findings(inv: Inventory, base_dir: Path | str) -> list[Finding]:
    """``secret-file-unsafe`` findings for ``file:`` refs (paths relative to ``base_dir``)."""
    out: list[Finding] = []
    for key in inv.keys:
        ref = key.secret_ref or ""
        if not ref.startswith("file:"):
            continue
        path = Path(base_dir) / ref[5:]
        why = _why_unsafe(path, Path(base_dir), ref[5:])
        if why:
            out.append(
                Finding(
                    code="secret-file-unsafe",
                    severity=Severity.HIGH,
                    subject=key.id,
                    message=f"key {key.id}: {ref} {why}",
                    location=key.location,
                )
            )
    return out


def _why_unsafe(path: Path, base: Path, rest: str) -> str | None:
    if not Path(rest).is_absolute():
        for parent in list(Path(rest).parents)[-2::-1]:
            if (base / parent).is_symlink():
                return f"goes through the symlink {base / parent}; point at the real file"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "is a symlink (refused when probing); point at the real file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (refused when probing)"
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(st.st_mode)
        return f"is open to group or others (mode {mode:04o}, refused when probing); chmod 600 it"
    return None
