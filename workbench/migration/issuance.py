"""`workbench issue`: a client certificate for every consumer of a step's key.

A step is issued in one pass (``workbench.workspace.certbulk.ensure_certificates``): one
query for the step's active certificates, files written straight under serial-derived
names, one file-system flush for the whole step instead of one fsync per file (~8 ms each
here), one ``executemany`` for the rows and one batch of hash-chained audit records, all
in one transaction. A crash anywhere converges on re-run (req. 26).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from workbench.errors import InputError, WorkspaceError
from workbench.migration.campaign import Campaign
from workbench.migration.remote import DEFAULT_CONCURRENCY, audit_receipts, is_remote, presign
from workbench.states import StepState
from workbench.workspace import CertificateMaterial, CertificateRecord
from workbench.workspace.certbulk import CertificateRequest, ensure_certificates
from workbench.workspace.certfiles import ensure_certificate

DEFAULT_CLIENT_LIFETIME = timedelta(days=7)
DEFAULT_SERVER_LIFETIME = timedelta(days=30)
P12_PASSWORD_ENV = "WORKBENCH_P12_PASSWORD"  # noqa: S105 (a variable name)
GATEWAY_SERVICE = "gateway"


@dataclass(frozen=True)
class IssueOutcome:
    """Result of issuing one step."""

    step: str
    """The step (key id)."""
    certificates: tuple[CertificateRecord, ...]
    """The active certificate of every consumer."""
    issued: tuple[str, ...]
    """Services that got a new certificate in this run (empty on an idempotent re-run)."""
    state: str
    """The step's state afterwards."""


def _material(cert, chain_pem: bytes, p12: bytes | None) -> CertificateMaterial:
    return CertificateMaterial(
        cert_pem=cert.pem,
        key_pem=cert.private_key_pem(),
        chain_pem=cert.pem + chain_pem,
        p12=p12,
        issued=cert,  # its facts spare ensure_certificate a re-parse of the PEM
    )


@dataclass(frozen=True)
class _ClientMaker:
    """How one run issues a consumer's certificate (key, certificate, chain, PKCS#12)."""

    campaign: Campaign
    ca: object
    lifetime: timedelta
    key_algorithm: str
    password: str | None
    p12_alias: str | None

    def __call__(self, service_id: str) -> Callable[[], CertificateMaterial]:
        service = self.campaign.inventory.service(service_id)
        ca, now = self.ca, self.campaign.now()
        chain = ca.chain_pem  # type: ignore[attr-defined]

        def make() -> CertificateMaterial:
            cert = ca.issue_client(  # type: ignore[attr-defined]
                service.id,
                service.environment,
                dns_names=service.dns_names,
                lifetime=self.lifetime,
                now=now,
                key_algorithm=self.key_algorithm,
            )
            p12 = None
            if self.password:
                from workbench.pki import make_pkcs12

                p12 = make_pkcs12(cert, chain, self.p12_alias or service.id, self.password)
            return _material(cert, chain, p12)

        return make


def _maker(campaign: Campaign, lifetime, key_algorithm, p12_password, p12_alias) -> _ClientMaker:  # noqa: ANN001
    password = p12_password if p12_password is not None else os.environ.get(P12_PASSWORD_ENV)
    return _ClientMaker(campaign, campaign.ca(), lifetime, key_algorithm, password, p12_alias)


def issue_step(
    campaign: Campaign,
    step_key: str,
    *,
    renew: bool = False,
    lifetime: timedelta = DEFAULT_CLIENT_LIFETIME,
    key_algorithm: str = "ec-p256",
    p12_password: str | None = None,
    p12_alias: str | None = None,
    progress: Callable[[int], None] | None = None,
    durable: bool = True,
    services: tuple[str, ...] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    _presigned: dict | None = None,
) -> IssueOutcome:
    """Issue (or find) the client certificates of every consumer of ``step_key``.

    Idempotent: without ``renew`` a consumer that already has an active certificate for
    this step gets nothing new. A PKCS#12 bundle is added when ``p12_password`` is given
    (default: the ``WORKBENCH_P12_PASSWORD`` environment variable); its alias is the
    service id unless ``p12_alias`` says otherwise. ``services`` limits the run to some
    consumers (renewal). A remote issuer (Vault) signs the missing certificates first, up to
    ``concurrency`` at a time, and only then is anything written.
    """
    ws, inv = campaign.workspace, campaign.inventory
    ws.step(step_key)  # raises a clear WorkspaceError for an unknown step
    if step_key not in inv.keys_by_id:
        raise InputError(f"step {step_key} is not a key of {inv.source}: re-run `workbench init`")
    consumers = [c for c in inv.consumers_of(step_key) if services is None or c in services]
    maker = _maker(campaign, lifetime, key_algorithm, p12_password, p12_alias)
    now = campaign.now()
    if _presigned is None and is_remote(maker.ca):
        wanted = _missing_slots(campaign, [step_key], renew, services)
        _presigned = presign(
            [(slot, maker(slot[1])) for slot in wanted], concurrency=concurrency, progress=progress
        )
        progress = None  # already counted while signing
    signed = _presigned if _presigned is not None else {}

    def request(sid: str) -> CertificateRequest:
        made = signed.pop((step_key, sid), None)
        return CertificateRequest(sid, (lambda: made) if made is not None else maker(sid))

    requests = [request(sid) for sid in consumers]
    with ws.transaction():
        results = ensure_certificates(
            ws,
            requests,
            kind="client",
            step_key=step_key,
            renew=renew,
            now=now,
            durable=durable,
            progress=progress,
        )
        audit_receipts(campaign)  # Vault's request ids beside the cert.issue records
        records = [record for record, _ in results]
        issued = [record.service for record, new in results if new]
        if ws.step(step_key).state == StepState.PLANNED:
            ws.set_step_state(
                step_key, StepState.ISSUED, reason=f"{len(records)} client certificates", now=now
            )
    return IssueOutcome(step_key, tuple(records), tuple(issued), ws.step(step_key).state)


def issue_steps(
    campaign: Campaign,
    step_keys: list[str],
    *,
    renew: bool = False,
    lifetime: timedelta = DEFAULT_CLIENT_LIFETIME,
    key_algorithm: str = "ec-p256",
    p12_alias: str | None = None,
    progress: Callable[[int], None] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[IssueOutcome]:
    """``issue_step`` for several steps (a wave). With a remote issuer every missing
    certificate of every step is signed first, ``concurrency`` at a time; a refusal leaves
    the workspace as it was."""
    for key in step_keys:
        campaign.workspace.step(key)  # a clear error for an unknown step before any signing
    presigned = None
    maker = _maker(campaign, lifetime, key_algorithm, None, p12_alias)
    if is_remote(maker.ca):
        wanted = _missing_slots(campaign, step_keys, renew, None)
        presigned = presign(
            [(slot, maker(slot[1])) for slot in wanted], concurrency=concurrency, progress=progress
        )
        progress = None
    return [
        issue_step(
            campaign,
            key,
            renew=renew,
            lifetime=lifetime,
            key_algorithm=key_algorithm,
            p12_alias=p12_alias,
            progress=progress,
            _presigned=presigned,
        )
        for key in step_keys
    ]


def _missing_slots(
    campaign: Campaign, step_keys: list[str], renew: bool, services: tuple[str, ...] | None
) -> list[tuple[str, str]]:
    """(step, service) slots that need a new certificate."""
    ws, inv = campaign.workspace, campaign.inventory
    out = []
    for key in step_keys:
        if key not in inv.keys_by_id:
            raise InputError(f"step {key} is not a key of {inv.source}: re-run `workbench init`")
        active = {c.service for c in ws.active_certificates(step=key, kind="client")}
        for sid in inv.consumers_of(key):
            if (services is None or sid in services) and (renew or sid not in active):
                out.append((key, sid))
    return out


def issue_gateway_certificate(
    campaign: Campaign,
    *,
    hosts: Iterable[str] = ("localhost",),
    ips: Iterable[str] = ("127.0.0.1",),
    renew: bool = False,
) -> CertificateRecord:
    """The server certificate of the gateway the workspace manages (the sample environment)."""
    ca = campaign.ca()
    now = campaign.now()
    hosts, ips = tuple(hosts), tuple(ips)

    def make() -> CertificateMaterial:
        cert = ca.issue_server(
            hosts[0] if hosts else "localhost",
            dns_names=hosts,
            ip_addresses=ips,
            lifetime=DEFAULT_SERVER_LIFETIME,
            now=now,
        )
        # A Vault workspace without a server role signs this with its local server CA.
        return _material(cert, getattr(ca, "server_chain_pem", ca.chain_pem), None)

    with campaign.workspace.transaction():
        record, _ = ensure_certificate(
            campaign.workspace,
            service=GATEWAY_SERVICE,
            issue=make,
            kind="server",
            renew=renew,
            now=now,
        )
        audit_receipts(campaign)
    if record.key_path is None:
        raise WorkspaceError("the gateway certificate has no key file: renew it")
    return record
