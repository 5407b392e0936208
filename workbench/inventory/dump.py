"""Write an inventory back as YAML that ``loads_inventory`` reads to an equal ``Inventory``.

Text is always emitted as text: PyYAML's dumper quotes anything YAML 1.1 would read as
another type (``'0777'``, ``'no'``), which is exactly what the loader demands. Defaults and
empty values are left out. ``write_text_atomic`` is the crash-safe write (req. 24).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import InputError, Problem
from workbench.fsio import atomic_write
from workbench.inventory.loader import (
    API_FIELDS,
    GATEWAY_FIELDS,
    INTEGRATION_FIELDS,
    KEY_FIELDS,
    SERVICE_FIELDS,
)
from workbench.inventory.model import Inventory
from workbench.inventory.yamlsafe import gc_paused

__all__ = ["check_output_target", "dump_inventory", "inventory_to_dict", "write_text_atomic"]

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _entity(obj: Any, order: tuple[str, ...], defaults: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in order:
        value = getattr(obj, name)
        if value is None or value == () or defaults.get(name, object()) == value:
            continue
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def inventory_to_dict(inv: Inventory) -> dict[str, Any]:
    """Plain data in file order (dates stay ``date``); what ``dump_inventory`` writes."""
    data: dict[str, Any] = {"version": inv.version}
    if inv.trust_domain:
        data["trust_domain"] = inv.trust_domain
    data["apis"] = [_entity(a, API_FIELDS, {}) for a in inv.apis]
    for a, d in zip(inv.apis, data["apis"], strict=True):
        d.setdefault("data_classes", list(a.data_classes))  # required, even when empty
    data["services"] = [_entity(s, SERVICE_FIELDS, {"third_party": False}) for s in inv.services]
    for s, d in zip(inv.services, data["services"], strict=True):
        d.setdefault("exposure", s.exposure)
    data["keys"] = [_entity(k, KEY_FIELDS, {"checked_by": "gateway"}) for k in inv.keys]
    data["integrations"] = [_entity(i, INTEGRATION_FIELDS, {}) for i in inv.integrations]
    if inv.gateways:
        data["gateways"] = [_entity(g, GATEWAY_FIELDS, {}) for g in inv.gateways]
        for g, d in zip(inv.gateways, data["gateways"], strict=True):
            if g.upstreams:
                d["upstreams"] = dict(g.upstreams)
            if g.authorization_server:
                d["authorization_server"] = _entity(
                    g.authorization_server, ("issuer", "signing_keys", "token_endpoint", "ca"), {}
                )
    return data


def dump_inventory(inv: Inventory) -> str:
    """YAML text of ``inv`` (format version 1)."""
    with gc_paused():  # plain acyclic dicts, lists and nodes: collect once afterwards
        body = yaml.dump(
            inventory_to_dict(inv),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=False,
            default_flow_style=False,
            width=100,
        )
    return "# Inventory written by the workbench (format version 1).\n" + body


def check_output_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` if a file may be written there, else ``InputError`` saying why.

    The atomic write renames a temp file over the target: over ``/dev/null`` or a FIFO that
    would replace the device or pipe with a plain file (as root, for every program on the
    machine), and over a directory it fails with a bare ``OSError``.
    """
    target = Path(path)
    name = str(path)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        msg = f"cannot write: {exc.strerror}; check the path"
        raise InputError(Problem(name, 0, 0, msg)) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(Problem(name, 0, 0, "is a directory; name a file to write"))
    if info is not None and not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        raise InputError(
            Problem(
                name, 0, 0, "is not a regular file (a device or pipe); name a file to write, "
                "or leave out the output option to print"
            )
        )  # fmt: skip
    if not target.parent.is_dir():
        raise InputError(Problem(name, 0, 0, "its directory does not exist; create it first"))
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same directory, fsync, rename.

    A crash leaves the old file or the new one, never a torn file. An existing file's
    permission bits are kept; a new file gets 0644 less the umask. The write is
    :func:`workbench.fsio.atomic_write` (a symlink at ``path`` is refused, not followed);
    a directory, device or pipe at ``path`` is refused first (``check_output_target``).
    """
    target = check_output_target(path)
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o644 & ~umask
    try:
        atomic_write(target, text.encode("utf-8"), mode=mode, durable=True)
    except OSError as exc:  # read-only file system, no space, no permission on the directory
        raise InputError(
            Problem(str(path), 0, 0, f"cannot write: {exc.strerror}; check the directory")
        ) from None
