"""`workbench verify --step/--wave` and `workbench cutover`, on a workspace.

The probe identities come from the workspace:
- positive control: the active certificate of a consumer in the API's environment;
- foreign CA: a certificate with the same SPIFFE identity from a throwaway CA (``probes/``);
- revoked: a canary certificate of the same identity, revoked before the gateway loaded
  its CRL (made at ``sample-env up``; probed only when it exists);
- another service: a valid certificate of ``workbench-probe``, which no API authorises.

A step becomes ``verified`` only with a recorded PASS newer than its cut-over (req. 13).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import VerifyError
from workbench.migration.campaign import Campaign
from workbench.migration.remote import audit_receipts
from workbench.migration.revocation import tell_issuer
from workbench.migration.usage import old_key
from workbench.workspace import CertificateMaterial
from workbench.workspace.certfiles import ensure_certificate

PROBES_DIR = "probes"
OUTSIDER = "workbench-probe"
CANARY_PREFIX = "revoked-canary"
PROBE_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class StepVerdict:
    """A step's verification: the verdict document and what it did to the step."""

    step: str
    document: dict
    """The verdict document (see ``workbench.verify.verdict_document``)."""
    state: str
    """The step's state afterwards."""

    @property
    def verdict(self) -> str:
        return self.document["verdict"]


def probe_url(api) -> str:
    """The API's health URL (``url`` + ``health_path``)."""
    if not api.health_path:
        return api.url
    parts = urlsplit(api.url)
    path = parts.path.rstrip("/") + "/" + api.health_path.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _positive_control(campaign: Campaign, step_key: str, environment: str, allow_cross: bool):
    from workbench.verify import CertIdentity

    ws, inv = campaign.workspace, campaign.inventory
    certs = ws.active_certificates(step=step_key, kind="client")
    if not certs:
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
    c = sorted(chosen, key=lambda c: c.service)[0]
    return c, CertIdentity(ws.directory / c.chain_path, ws.directory / c.key_path)


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
    cert, new_cert = _positive_control(campaign, step_key, api.environment, allow_cross_environment)
    service = inv.service(cert.service)
    target = Target(
        url=probe_url(api),
        header=key.header,
        environment=api.environment,
        expected_environment=service.environment,
        allow_cross_environment=allow_cross_environment,
        name=step_key,
    )
    token, token_peer = _token_identities(campaign, step_key, api.id, cert.service)
    identities = Identities(
        new_cert=new_cert,
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

    if route_mode(campaign, api_id) != "mtls+token":
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


def record(campaign: Campaign, result, *, old_key_fingerprint: str) -> StepVerdict:
    """Store a verdict with its evidence (audited); PASS after a cut-over marks it verified.

    ``old_key_fingerprint`` is the fingerprint of the key the run probed (its Identities)."""
    from workbench.verify import verdict_document

    ws = campaign.workspace
    doc = verdict_document(result)
    step_key = result.target.name
    with ws.transaction():
        ws.record_verdict(
            step_key,
            doc["verdict"],
            started_at=result.verdict.started,
            finished_at=result.verdict.finished,
            old_key_fingerprint=old_key_fingerprint,
            evidence=doc,
        )
        step = ws.step(step_key)
        if doc["verdict"] == "PASS" and step.state == "cut_over":
            ws.set_step_state(step_key, "verified", reason="cut-over verified: PASS recorded")
    return StepVerdict(step_key, doc, ws.step(step_key).state)


def verify_steps(
    campaign: Campaign,
    step_keys: Sequence[str],
    *,
    concurrency: int = 8,
    timeout: float = 5.0,
    allow_cross_environment: bool = False,
    progress: Callable[[object], None] | None = None,
) -> list[StepVerdict]:
    """Verify steps concurrently (bounded) and record every verdict."""
    from workbench.verify import run_verify_many

    jobs = [
        step_job(campaign, k, allow_cross_environment=allow_cross_environment) for k in step_keys
    ]
    results = run_verify_many(jobs, concurrency=concurrency, timeout=timeout, progress=progress)
    return [
        record(campaign, result, old_key_fingerprint=identities.old_key.fingerprint)
        for (_, identities), result in zip(jobs, results, strict=True)
    ]


def wave_verdict(verdicts: Sequence[StepVerdict]) -> str:
    """A wave passes only when every step passes; any FAIL makes it FAIL; otherwise the worst
    of ERROR and INCONCLUSIVE."""
    kinds = {v.verdict for v in verdicts}
    if kinds == {"PASS"}:
        return "PASS"
    for worst in ("FAIL", "ERROR", "INCONCLUSIVE"):
        if worst in kinds:
            return worst
    return "ERROR"  # an empty wave proves nothing


@dataclass(frozen=True)
class CutoverOutcome:
    """What `cutover` did."""

    step: str
    usage_accepted: int
    """Requests with the old key accepted in the usage window before the switch."""
    verdict: StepVerdict | None
    rolled_back: bool
    state: str


def cutover(
    campaign: Campaign,
    step_key: str,
    *,
    usage_window: timedelta = timedelta(minutes=15),
    since: datetime | None = None,
    force: bool = False,
    fault: str | None = None,
    timeout: float = 5.0,
) -> CutoverOutcome:
    """Check usage, switch to mtls, verify; roll back to dual unless the verdict is PASS.

    The pre-check refuses when the old key was accepted since ``since`` (default: the last
    ``usage_window``), unless ``force``.
    """
    from workbench.errors import CutoverBlocked
    from workbench.migration.gateway_ops import set_step_mode
    from workbench.migration.usage import step_usage

    window_start = since or campaign.now() - usage_window
    usage = step_usage(campaign, step_key, since=window_start)
    if usage.accepted and not force:
        last = usage.last_accepted.isoformat(timespec="seconds") if usage.last_accepted else "?"
        raise CutoverBlocked(
            f"step {step_key}: the old key was accepted {usage.accepted} time(s) since "
            f"{window_start.isoformat(timespec='seconds')} (last {last}, agents "
            f"{', '.join(usage.user_agents) or '?'}): move those consumers first, or --force"
        )
    set_step_mode(campaign, step_key, "mtls", fault=fault, reason="cutover")
    try:
        [verdict] = verify_steps(campaign, [step_key], timeout=timeout)
    except BaseException:
        set_step_mode(campaign, step_key, "dual", reason="cutover aborted: verifier error")
        raise
    rolled_back = verdict.verdict != "PASS"
    if rolled_back:
        set_step_mode(
            campaign, step_key, "dual", reason=f"automatic rollback: verdict {verdict.verdict}"
        )
    return CutoverOutcome(
        step_key, usage.accepted, verdict, rolled_back, campaign.workspace.step(step_key).state
    )
