"""Which CRL a gateway serves, and whether it is about to go stale (``workbench status``).

A gateway reads one PEM file holding a CRL per CA of the chain. Its number is the highest
of them (the issuing CA's, which lists the leaves; a remote CA may number its root's CRL
apart), its nextUpdate the earliest: the whole file goes stale with its first CRL. An
expired CRL fails open or closed depending on the product, so the workbench warns well
before nextUpdate passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["CrlHealth", "crl_health", "read_crl_file"]

WARN_BEFORE = timedelta(days=2)
"""Warn this long before nextUpdate (CRLs are published for 7 days)."""
_PEM = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)


def read_crl_file(path: Path) -> dict | None:
    """``{number, this_update, next_update, revoked, crls}`` of a PEM CRL file, None when the
    file is missing or holds no readable CRL."""
    from cryptography import x509

    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    crls = []
    for block in _PEM.findall(data):
        try:
            crls.append(x509.load_pem_x509_crl(block))
        except ValueError:
            continue
    if not crls:
        return None
    numbers = []
    for crl in crls:
        try:
            numbers.append(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
        except x509.ExtensionNotFound:
            numbers.append(0)
    next_updates = [c.next_update_utc for c in crls if c.next_update_utc is not None]
    return {
        "number": max(numbers),
        "this_update": min(c.last_update_utc for c in crls),
        "next_update": min(next_updates) if next_updates else datetime.min.replace(tzinfo=UTC),
        "revoked": sum(len(list(c)) for c in crls),
        "crls": len(crls),
    }


@dataclass(frozen=True)
class CrlHealth:
    """One gateway's CRL as ``status`` shows it."""

    gateway: str
    """Gateway id."""
    server: str
    """The server software (python, nginx, haproxy)."""
    path: str | None
    """The CRL file it is configured with (None: it checks no CRL)."""
    number: int | None
    this_update: datetime | None
    next_update: datetime | None
    state: str
    """``ok``, ``expiring`` (nextUpdate within WARN_BEFORE), ``expired``, ``behind`` (an older
    CRL than the workspace last published), ``missing`` or ``none`` (no CRL configured)."""
    warning: str | None
    """A sentence for the operator, or None when all is well."""


def crl_health(
    gateway: str,
    server: str,
    path: Path | None,
    *,
    now: datetime,
    published: int | None,
    warn_before: timedelta = WARN_BEFORE,
) -> CrlHealth:
    """Judge one gateway's CRL file against ``now`` and the last published CRL number."""
    if path is None:
        return CrlHealth(
            gateway,
            server,
            None,
            None,
            None,
            None,
            "none",
            f"gateway {gateway} checks no CRL: revoked certificates stay valid",
        )
    info = read_crl_file(path)
    if info is None:
        return CrlHealth(
            gateway,
            server,
            str(path),
            None,
            None,
            None,
            "missing",
            f"gateway {gateway}: no readable CRL at {path}: run `workbench crl`",
        )
    nu = info["next_update"]
    state, warning = "ok", None
    if nu <= now:
        state = "expired"
        warning = (
            f"gateway {gateway}: its CRL expired at {nu:%Y-%m-%d %H:%M}Z: publish and push a "
            "new one (`workbench crl`)"
        )
    elif published is not None and info["number"] < published:
        state = "behind"
        warning = (
            f"gateway {gateway} serves CRL {info['number']}, the workspace published {published}: "
            "push the CRLs to it"
        )
    elif nu - now <= warn_before:
        left = nu - now
        state = "expiring"
        warning = (
            f"gateway {gateway}: its CRL expires in {left.days}d {left.seconds // 3600}h "
            f"({nu:%Y-%m-%d %H:%M}Z): publish a new one (`workbench crl`)"
        )
    return CrlHealth(
        gateway, server, str(path), info["number"], info["this_update"], nu, state, warning
    )
