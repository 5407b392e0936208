"""CRL health of every gateway the workspace drives, for ``workbench status``."""

from __future__ import annotations

from workbench.drill import gateways as gws
from workbench.drill.crlinfo import CrlHealth, crl_health
from workbench.errors import WorkbenchError
from workbench.migration.campaign import Campaign

__all__ = ["crl_status", "published_crl_number"]


def published_crl_number(campaign: Campaign) -> int | None:
    """The number of the last CRL the workspace published, from its audit record (a remote
    CA numbers its own CRLs, so the workspace's counter is not the number); None: never."""
    import json

    row = campaign.workspace.connection.execute(
        "SELECT details FROM audit WHERE action = 'crl.publish' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    number = json.loads(row[0]).get("crl_number")
    return number if isinstance(number, int) else None


def crl_status(campaign: Campaign) -> list[CrlHealth]:
    """One :class:`CrlHealth` per gateway (empty when no gateway ever ran here)."""
    try:
        refs = gws.all_gateways(campaign)
    except WorkbenchError:
        return []
    published = published_crl_number(campaign)
    now = campaign.now()
    out = []
    for ref in refs:
        if ref.kind == "manual":
            out.append(CrlHealth(ref.id, "manual", None, None, None, None, "manual", None))
            continue
        try:
            path = gws.crl_file_of(campaign, ref)
        except WorkbenchError:
            continue  # stopped since: it serves nothing now
        out.append(crl_health(ref.id, ref.server, path, now=now, published=published))
    return out
