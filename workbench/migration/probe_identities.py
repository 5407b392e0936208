"""Who the verifier presents for a step, built from the workspace.

- positive controls: the active certificate of every consumer in the API's environment
  (a revoke-only step, which has no consumers, uses the consumers of the API's other steps);
- foreign CA: a certificate with the same SPIFFE identity from a throwaway CA (``probes/``);
- revoked: a canary certificate of the same identity, revoked before the gateway loaded
  its CRL (made at ``sample-env up``; probed only when it exists);
- another service: a valid certificate of ``workbench-probe``, which no API authorises.
"""

from __future__ import annotations

import secrets
import shutil
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import VerifyError
from workbench.migration.campaign import Campaign
from workbench.migration.remote import audit_receipts
from workbench.migration.revocation import tell_issuer
from workbench.migration.usage import old_key
from workbench.states import GatewayMode
from workbench.workspace import CertificateMaterial
from workbench.workspace.certfiles import ensure_certificate

PROBES_DIR = "probes"
OUTSIDER = "workbench-probe"
CANARY_PREFIX = "revoked-canary"
PROBE_LIFETIME = timedelta(days=30)


def probe_url(api) -> str:
    """The API's health URL (``url`` + ``health_path``)."""
    if not api.health_path:
        return api.url
    parts = urlsplit(api.url)
    path = parts.path.rstrip("/") + "/" + api.health_path.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def require_health_path(campaign: Campaign, api) -> None:
    """Refuse, before anything is sent or changed, an API without ``health_path``."""
    if not api.health_path:
        where = f" ({api.location})" if api.location else ""
        raise VerifyError(
            f"api {api.id}{where} has no health_path: the verifier cannot run a positive "
            "control; add `health_path: /health` (a GET answering 2xx to an authorised "
            "caller) to that api in the inventory, then retry"
        )


def is_revoke_only(campaign: Campaign, step_key: str) -> bool:
    """A key nobody consumes: retired with proof, no consumer to move."""
    return not campaign.inventory.consumers_of(step_key)


def _positive_controls(campaign: Campaign, step_key: str, environment: str, allow_cross: bool):
    """Every consumer certificate that must be accepted: ``[(record, CertIdentity)]``."""
    from workbench.verify import CertIdentity

    ws, inv = campaign.workspace, campaign.inventory
    certs = ws.active_certificates(step=step_key, kind="client")
    if is_revoke_only(campaign, step_key):
        # No consumer of its own: any identity the API authorises proves the route works.
        api = inv.key(step_key).api
        siblings = [k.id for k in inv.keys if k.api == api and k.id != step_key]
        certs = [c for k in siblings for c in ws.active_certificates(step=k, kind="client")]
        if not certs:
            raise VerifyError(
                f"step {step_key} is revoke-only (no consumers) and no identity authorised for "
                f"api {api} has a certificate to prove the route with: issue the certificates "
                f"of another step of that api first ({', '.join(siblings) or 'none exists'})"
            )
    elif not certs:
        raise VerifyError(
            f"step {step_key} has no certificates: run `workbench issue --step {step_key}` first"
        )
    same_env = [c for c in certs if inv.service(c.service).environment == environment]
    chosen = same_env or (certs if allow_cross else [])
    if not chosen:
        raise VerifyError(
            f"step {step_key}: no consumer certificate in environment {environment} to probe "
            "with (req. 18); pass --allow-cross-environment to use another environment's"
        )
    unique = {c.service: c for c in sorted(chosen, key=lambda c: (c.service, c.serial))}
    return [
        (c, CertIdentity(ws.directory / c.chain_path, ws.directory / c.key_path))
        for c in unique.values()
    ]


def _foreign_identity(campaign: Campaign, service: str, environment: str):
    """Same identity, another CA: made once per workspace and service, kept under probes/."""
    from workbench.pki import LocalCA, write_private_key, write_public_file
    from workbench.verify import CertIdentity

    base = campaign.directory / PROBES_DIR
    chain, key = base / "foreign" / f"{service}.chain.pem", base / "foreign" / f"{service}.key"
    if not (chain.exists() and key.exists()):
        ca_dir = base / "foreign-ca"
        passphrase = secrets.token_urlsafe(16)  # throwaway CA: its key is never needed again
        if ca_dir.exists():
            shutil.rmtree(ca_dir)
        ca = LocalCA.create(
            ca_dir,
            trust_domain=campaign.trust_domain,
            passphrase=passphrase,
            now=campaign.now(),
            kdf_rounds=1,
        )
        cert = ca.issue_client(service, environment, lifetime=PROBE_LIFETIME, now=campaign.now())
        write_private_key(key, cert.private_key, base=campaign.directory)
        write_public_file(chain, cert.pem + ca.chain_pem, base=campaign.directory)
    return CertIdentity(chain, key)


def _issue_probe_cert(campaign: Campaign, service_id: str, identity: str, environment: str):
    ca = campaign.ca()

    def make() -> CertificateMaterial:
        cert = ca.issue_client(identity, environment, lifetime=PROBE_LIFETIME, now=campaign.now())
        return CertificateMaterial(cert.pem, cert.private_key_pem(), cert.pem + ca.chain_pem)

    with campaign.workspace.transaction():
        record, _ = ensure_certificate(
            campaign.workspace, service=service_id, issue=make, kind="client", now=campaign.now()
        )
        audit_receipts(campaign)  # a Vault issuer's request ids
    return record


def outsider_identity(campaign: Campaign, environment: str):
    """A valid certificate of a service no API authorises (expects 403)."""
    from workbench.verify import CertIdentity

    rec = _issue_probe_cert(campaign, f"{OUTSIDER}-{environment}", OUTSIDER, environment)
    ws = campaign.workspace
    return CertIdentity(ws.directory / rec.chain_path, ws.directory / rec.key_path)


def canary_service(service: str) -> str:
    return f"{CANARY_PREFIX}.{service}"[:63]


def prepare_revocation_canaries(campaign: Campaign) -> int:
    """Issue and revoke one canary per consumer (same identity) before the gateway loads its
    CRL; returns how many were made. Called by ``sample-env up``."""
    ws, inv = campaign.workspace, campaign.inventory
    made = 0
    with ws.transaction():
        for service in inv.services:
            slot = canary_service(service.id)
            if ws.certificates(service=slot):
                continue
            rec = _issue_probe_cert(campaign, slot, service.id, service.environment)
            tell_issuer(campaign, rec.serial, "keyCompromise")
            ws.revoke_certificate(rec.serial, "keyCompromise", now=campaign.now())
            made += 1
        audit_receipts(campaign)
    return made


def _revoked_identity(campaign: Campaign, service: str):
    from workbench.verify import CertIdentity

    ws = campaign.workspace
    revoked = [
        c for c in ws.certificates(service=canary_service(service), status="revoked") if c.key_path
    ]
    if not revoked:
        return None
    c = revoked[-1]
    return CertIdentity(ws.directory / c.chain_path, ws.directory / c.key_path)


def step_job(campaign: Campaign, step_key: str, *, allow_cross_environment: bool = False):
    """The (Target, Identities) pair that verifies one step."""
    from workbench.verify import Identities, Target

    inv = campaign.inventory
    key = inv.key(step_key)
    api = inv.api(key.api)
    require_health_path(campaign, api)
    controls = _positive_controls(campaign, step_key, api.environment, allow_cross_environment)
    cert, new_cert = controls[0]
    service = inv.service(cert.service)
    target = Target(
        url=api.url,
        path=api.health_path,
        endpoints=api.endpoints,
        probe_paths=api.probe_paths,
        presented_as=key.presented_as,
        header=key.header,
        environment=api.environment,
        expected_environment=service.environment,
        allow_cross_environment=allow_cross_environment,
        name=step_key,
    )
    token, token_peer = _token_identities(campaign, step_key, api.id, cert.service)
    more_tokens: tuple = ()
    if token is not None:  # each consumer presents a token bound to its own certificate
        from workbench.migration.tokens import fetch_bound_token

        more_tokens = tuple(
            fetch_bound_token(campaign, rec.service, api.id, step=rec.step_key or step_key)
            for rec, _ in controls[1:]
        )
    identities = Identities(
        new_cert=new_cert,
        more_controls=tuple(ident for _, ident in controls[1:]),
        more_tokens=more_tokens,
        bearer_token=token,
        token_peer_cert=token_peer,
        old_key=old_key(campaign, step_key),
        server_ca=campaign.server_ca_file,
        foreign_cert=_foreign_identity(campaign, service.id, service.environment),
        revoked_cert=_revoked_identity(campaign, service.id),
        other_service_cert=outsider_identity(campaign, service.environment),
    )
    return target, identities


def route_mode(campaign: Campaign, api_id: str) -> str | None:
    """The current mode of the gateway fronting an API (None when it never ran)."""
    from workbench.migration.gateway_ops import current_mode

    return current_mode(campaign, api_id)


def _token_identities(campaign: Campaign, step_key: str, api_id: str, service: str):
    """In mtls+token mode: a token bound to the control's certificate, and another consumer's
    certificate (authorised for this API) to present it with."""
    from workbench.migration.tokens import fetch_bound_token
    from workbench.verify import CertIdentity

    if route_mode(campaign, api_id) != GatewayMode.MTLS_TOKEN:
        return None, None
    token = fetch_bound_token(campaign, service, api_id, step=step_key)
    ws = campaign.workspace
    others = sorted(
        (c for c in ws.active_certificates(step=step_key, kind="client") if c.service != service),
        key=lambda c: c.service,
    )
    if others:
        peer = CertIdentity(ws.directory / others[0].chain_path, ws.directory / others[0].key_path)
    else:  # a single consumer: the outsider's certificate still must not carry the token
        peer = outsider_identity(campaign, campaign.inventory.service(service).environment)
    return token, peer
