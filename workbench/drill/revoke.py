"""``workbench drill revoke``: revoke a service's certificates and prove they die everywhere.

The service's APIs are those it holds a key for (its integrations). Every active client
certificate of the service is revoked (reason ``keyCompromise`` by default), the CRLs are
published and pushed to every gateway in front of those APIs, and each revoked certificate
is probed at every entry point address until it is refused or the deadline passes. Other
consumers' certificates on the same APIs are the controls: they must still be accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.drill import gateways as gws
from workbench.drill.probing import cert_credential
from workbench.drill.runner import (
    DEFAULT_DEADLINE,
    DrillReport,
    RevokeOutcome,
    run_revocation_drill,
)
from workbench.errors import InputError
from workbench.migration.campaign import Campaign

__all__ = ["revoke_drill", "service_apis"]

MAX_CONTROLS_PER_API = 1


def known_id(kind: str, wanted: str, known) -> None:
    """A one-line error naming the unknown id and the nearest known ones."""
    from workbench.errors import UnknownIdError

    known = list(known)
    if wanted not in known:
        raise UnknownIdError(kind, wanted, known)


def service_apis(campaign: Campaign, service: str) -> list:
    """The APIs ``service`` is authorised for (through the keys it consumes), in order."""
    inv = campaign.inventory
    ids = {inv.key(i.key).api for i in inv.integrations if i.consumer == service}
    return [a for a in inv.apis if a.id in ids]


def _controls(campaign: Campaign, service: str, apis) -> list:
    """One other consumer's active certificate per API (a good certificate must survive)."""
    ws, inv = campaign.workspace, campaign.inventory
    by_service = {}
    for c in ws.active_certificates():
        if c.kind == "client" and c.service != service and c.service in inv.services_by_id:
            by_service.setdefault(c.service, c)
    chosen = {}
    for api in apis:
        consumers = {i.consumer for i in inv.integrations if inv.key(i.key).api == api.id} - {
            service
        }
        picks = [by_service[s] for s in sorted(consumers) if s in by_service]
        for c in picks[:MAX_CONTROLS_PER_API]:
            chosen[c.serial] = c
    return list(chosen.values())


def revoke_drill(
    campaign: Campaign,
    service: str,
    *,
    reason: str = "keyCompromise",
    deadline: float = DEFAULT_DEADLINE,
    push: gws.PushFn = gws.push_crls,
    progress: Callable[[str], None] | None = None,
    **options,
) -> DrillReport:
    """Run the drill (not stored: see :func:`workbench.drill.store.record_drill`)."""
    from workbench.migration.revocation import revoke
    from workbench.pki import parse_reason

    parse_reason(reason)  # a bad reason is refused before anything happens
    if deadline <= 0:
        raise InputError(f"--deadline {deadline:g}: give a positive number of seconds")
    ws, inv = campaign.workspace, campaign.inventory
    known_id("service", service, inv.services_by_id)
    certs = [c for c in ws.active_certificates() if c.service == service and c.kind == "client"]
    if not certs:
        raise InputError(
            f"service {service} has no active client certificate: nothing to revoke "
            "(`workbench issue --step KEY` issues them)"
        )
    apis = service_apis(campaign, service)
    if not apis:
        raise InputError(f"service {service} consumes no API key: no entry point to probe")
    ca = campaign.ca_dir / "chain.pem"
    creds = [
        cert_credential(ws.directory / c.chain_path, ws.directory / c.key_path, ca) for c in certs
    ]
    controls = [
        cert_credential(ws.directory / c.chain_path, ws.directory / c.key_path, ca)
        for c in _controls(campaign, service, apis)
    ]

    def do_revoke() -> RevokeOutcome:
        done, crl = revoke(campaign, service=service, reason=reason)
        return RevokeOutcome(tuple(c.serial for c in done), crl.number if crl else 0)

    return run_revocation_drill(
        campaign,
        kind="revoke",
        subject=service,
        apis=apis,
        credentials=creds,
        controls=controls,
        revoke=do_revoke,
        deadline=deadline,
        push=push,
        progress=progress,
        **options,
    )
