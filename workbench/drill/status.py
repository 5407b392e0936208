"""CRL health of every gateway the workspace drives, for ``workbench status``."""

from __future__ import annotations

from workbench.drill import gateways as gws
from workbench.drill.crlinfo import CrlHealth, crl_health
from workbench.errors import WorkbenchError
from workbench.migration.campaign import Campaign

__all__ = ["crl_status", "published_crl_number"]


def published_crl_number(campaign: Campaign) -> int | None:
    """The number of the last CRL the workspace published (None: never)."""
    row = campaign.workspace.connection.execute(
        "SELECT value FROM counters WHERE name = 'crl_number'"
    ).fetchone()
    return int(row[0]) if row and row[0] else None


def crl_status(campaign: Campaign) -> list[CrlHealth]:
    """One :class:`CrlHealth` per gateway (empty when no gateway ever ran here)."""
    try:
        refs = gws.all_gateways(campaign)
    except WorkbenchError:
        return []
    published = published_crl_number(campaign)
    now = campaign.now()
    return [
        crl_health(ref.id, ref.server, gws.crl_file_of(campaign, ref), now=now, published=published)
        for ref in refs
    ]
