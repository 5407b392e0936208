"""`workbench revoke` and `workbench crl`: revocation state and CRLs for both CAs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from workbench.errors import InputError
from workbench.migration.campaign import CRL_DIR, Campaign
from workbench.migration.remote import audit_receipts
from workbench.workspace import CertificateRecord, atomic_write

CRL_VALIDITY = timedelta(days=7)


@dataclass(frozen=True)
class CrlOutcome:
    """The CRLs just published."""

    number: int
    """CRL number (monotonic)."""
    revoked: int
    """How many serials the intermediate's CRL lists."""
    intermediate: Path
    """CRL of the issuing CA (PEM)."""
    root: Path
    """CRL of the root (PEM)."""
    combined: Path
    """Both, one file: what nginx ``ssl_crl`` and ``openssl -CRLfile`` want."""


def revoke(
    campaign: Campaign,
    *,
    serial: str | None = None,
    service: str | None = None,
    reason: str = "unspecified",
    publish: bool = True,
) -> tuple[list[CertificateRecord], CrlOutcome | None]:
    """Revoke one certificate by serial, or every active certificate of a service."""
    from workbench.pki import parse_reason

    reason = parse_reason(reason).value  # one-line PKIError naming the valid reasons
    ws = campaign.workspace
    if (serial is None) == (service is None):
        raise InputError("name exactly one of SERIAL or --service")
    now = campaign.now()
    if serial is not None:
        targets = [ws.certificate(serial)]
    else:
        targets = [c for c in ws.active_certificates() if c.service == service]
        if not targets:
            raise InputError(f"service {service} has no active certificate")
    done = []
    with ws.transaction():
        for cert in targets:
            tell_issuer(campaign, cert.serial, reason, kind=cert.kind)
            done.append(ws.revoke_certificate(cert.serial, reason, now=now))
        audit_receipts(campaign)
        outcome = publish_crls(campaign) if publish else None
    return done, outcome


def tell_issuer(campaign: Campaign, serial: str, reason: str, *, kind: str = "client") -> None:
    """A remote CA (Vault) revokes first: if it refuses, the workspace does not record a
    revocation that its CRLs will not show. A local CA signs CRLs from the workspace's own
    records, so there is nothing to tell it; nor is there for a gateway certificate that a
    Vault workspace's local server CA signed."""
    if campaign.issuer_kind == "vault" and _signed_by_issuer(campaign, kind):
        campaign.ca().revoke(int(serial, 16), reason)


def _signed_by_issuer(campaign: Campaign, kind: str) -> bool:
    """False for a gateway certificate of a Vault workspace without a server role (its
    local server CA signed it; Vault neither knows nor lists it)."""
    if campaign.issuer_kind != "vault" or kind != "server":
        return True
    return bool(campaign.ca().config.server_role)


def publish_crls(campaign: Campaign) -> CrlOutcome:
    """Write fresh CRLs for the intermediate and the root with the next CRL number."""
    from workbench.pki import Revoked, parse_reason

    ws = campaign.workspace
    ca = campaign.ca()
    now = campaign.now()
    with ws.transaction():
        revoked = [
            Revoked(int(c.serial, 16), c.revoked_at or now, parse_reason(c.reason))
            for c in ws.revoked_certificates()
            if _signed_by_issuer(campaign, c.kind)
        ]
        crls = ca.crls(revoked, ws.next_crl_number(), now, next_update_after=CRL_VALIDITY)
        number = crls.crl_number  # a remote CA numbers its own CRLs
        directory = campaign.directory / CRL_DIR
        directory.mkdir(mode=0o755, exist_ok=True)
        paths = {
            "intermediate": directory / "intermediate.crl.pem",
            "root": directory / "root.crl.pem",
            "combined": directory / "crl.pem",
        }
        atomic_write(paths["intermediate"], crls.intermediate_pem)
        atomic_write(paths["root"], crls.root_pem)
        atomic_write(paths["combined"], crls.combined_pem)
        ws.audit(
            "crl.publish",
            str(number),
            {
                "crl_number": number,
                "revoked": sorted(c.serial for c in ws.revoked_certificates()),
                "next_update": crls.intermediate.next_update_utc.isoformat(),
                "issuer": campaign.issuer_kind,
            },
            now=now,
        )
        audit_receipts(campaign)
    return CrlOutcome(number, len(revoked), **paths)
