"""The managed gateway (the sample environment's): start it from the workspace, change modes.

The unit of retirement is a key, but gateway modes are per API and an API may accept several
keys (payments-api takes pay-key-prod and fraud-key). So cutting over one step removes only
its key from the route: the route becomes ``mtls`` once no key is left, and stays ``dual``
for the other keys' consumers until then.

Every change is audited in the same transaction as it is applied: the audit record is
written first, and if validation, the write or the reload fails the transaction rolls back
and the previous config is re-applied (req. 25).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from workbench.errors import GatewayError, InputError
from workbench.migration.campaign import CRL_DIR, Campaign
from workbench.migration.issuance import issue_gateway_certificate
from workbench.migration.revocation import publish_crls

# Step states in which the step's key is retired at its gateway.
RETIRED_STATES = ("cut_over", "verified")
MODES = ("key", "dual", "mtls", "mtls+token")
FAULTS = ("old-key-left-enabled",)


@dataclass(frozen=True)
class ModeChange:
    """One applied gateway change."""

    step: str
    api: str
    from_mode: str
    to_mode: str
    keys_accepted: tuple[str, ...]
    """Key ids the route still accepts after the change."""
    config_sha256: str


def sample_env(campaign: Campaign, *, gateway: str = "python", port: int | None = None):
    """The sample environment of the campaign's inventory (state next to the inventory)."""
    from workbench.sample_env import SampleEnv

    return SampleEnv(campaign.inventory, gateway=gateway, port=port)


def env_up(campaign: Campaign, *, gateway: str = "python", port: int | None = None):
    """Start backend + gateway with the workspace's server certificate, CA and CRLs."""
    ws = campaign.workspace
    from workbench.migration.verification import prepare_revocation_canaries

    server = issue_gateway_certificate(campaign)
    crl = campaign.directory / CRL_DIR / "crl.pem"
    # Revoked canaries must be in the CRL the gateway loads at start: the verifier's
    # "revoked certificate is refused" probe depends on it.
    if prepare_revocation_canaries(campaign) or not crl.exists():
        publish_crls(campaign)
    env = sample_env(campaign, gateway=gateway, port=port)
    previous = env.current_gateway()
    modes = None if previous else {a.id: "key" for a in campaign.inventory.apis}
    status = env.up(
        ws.directory / (server.chain_path or server.cert_path),
        ws.directory / server.key_path,
        campaign.ca_dir / "chain.pem",  # client CA bundle: the issuer's chain (local or Vault)
        crl=crl,
        modes=modes,
        token_server=True,  # ready for `mtls+token`: certificate-bound access tokens
        token_server_ca=campaign.server_ca_file,  # the token server serves the gateway's cert
    )
    with ws.transaction():
        ws.audit(
            "gateway.start",
            gateway,
            {
                "port": status.port,
                "server_certificate": server.serial,
                "modes": dict(status.modes),
            },
        )
    return status


def running_gateway(campaign: Campaign):
    env = sample_env(campaign)
    gw = env.current_gateway()
    if gw is None or not gw.is_running():
        raise GatewayError("no managed gateway is running: start it with `workbench sample-env up`")
    return gw


def _key_file(campaign: Campaign, key_id: str) -> str:
    env = sample_env(campaign)
    return str(env.key_path(campaign.inventory.key(key_id)))


def set_step_mode(
    campaign: Campaign,
    step_key: str,
    mode: str,
    *,
    fault: str | None = None,
    reason: str | None = None,
) -> ModeChange:
    """Put a step's API in ``mode`` for this step's key: key, dual (overlap), mtls (cut over) or
    mtls+token (certificate and a certificate-bound access token, once no key is left).

    ``fault="old-key-left-enabled"`` simulates the classic operator error (the key is not
    removed at cut-over) so the verifier's FAIL and the rollback can be rehearsed.
    """
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if fault is not None and fault not in FAULTS:
        raise InputError(f"unknown fault {fault!r}: use one of {', '.join(FAULTS)}")
    ws, inv = campaign.workspace, campaign.inventory
    step = ws.step(step_key)
    api = inv.key(step_key).api
    gw = running_gateway(campaign)
    old_spec = gw.spec
    route = old_spec.route(api)

    api_keys = [k.id for k in inv.keys if k.api == api]
    retired = {s.key for s in ws.steps() if s.key in api_keys and s.state in RETIRED_STATES}
    if mode in ("mtls", "mtls+token"):
        retired.add(step_key)
    else:
        retired.discard(step_key)
    if fault == "old-key-left-enabled":
        retired.discard(step_key)
    remaining = [k for k in api_keys if k not in retired]
    if mode == "mtls+token" and remaining:
        raise GatewayError(
            f"{api} still accepts {', '.join(remaining)}: retire those keys before requiring "
            "bound tokens (mtls+token)"
        )
    route_mode = mode if mode in ("key", "mtls+token") else ("dual" if remaining else "mtls")
    new_route = replace(
        route, mode=route_mode, key_files=tuple(_key_file(campaign, k) for k in remaining)
    )
    new_spec = replace(
        old_spec, routes=tuple(new_route if r.api_id == api else r for r in old_spec.routes)
    )
    rendered = gw.render(new_spec)
    gw.validate(rendered)
    target_state = _target_state(step.state, mode)
    try:
        with ws.transaction():
            ws.record_gateway_change(
                api, route.mode, route_mode, rendered.sha256, step_key=step_key
            )
            if target_state and step.state != target_state:
                ws.set_step_state(
                    step_key,
                    target_state,
                    reason=reason or f"gateway {api}: {route.mode} -> {route_mode}",
                )
            gw.spec = new_spec
            gw.apply(rendered)
    except BaseException:
        gw.spec = old_spec
        gw.apply(gw.render(old_spec))
        raise
    return ModeChange(step_key, api, route.mode, route_mode, tuple(remaining), rendered.sha256)


def _target_state(current: str, mode: str) -> str | None:
    """The step state a mode change implies (None: the state does not move)."""
    if mode in ("mtls", "mtls+token"):
        if current == "verified":
            return "cut_over"  # a changed gate must be verified again before it counts
        if current not in ("dual", "rolled_back", "cut_over"):
            raise GatewayError(
                f"step is {current}: put it in dual first (`workbench gateway set-mode dual "
                "--step ...`) and check usage before cutting over"
            )
        return "cut_over"
    if current == "planned":
        raise GatewayError("step is planned: issue its certificates first (`workbench issue`)")
    if mode == "dual":
        return (
            "rolled_back"
            if current in ("cut_over", "verified")
            else ("dual" if current == "issued" else None)
        )
    return None


def access_log(campaign: Campaign) -> Path:
    gw = sample_env(campaign).current_gateway()
    if gw is None:
        raise GatewayError("no managed gateway has run here: no access log to read")
    return Path(gw.spec.access_log)
