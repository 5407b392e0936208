"""Certificate-bound access tokens in the managed sample environment (RFC 8705).

A consumer gets a token from the sample environment's token server by presenting its client
certificate (tls_client_auth); the token's ``cnf.x5t#S256`` binds it to that certificate.
The server's event log names every token by fingerprint, jti, expiry and bound thumbprint
(never the token), which is what ``workbench renew`` reads to say which tokens it breaks.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from workbench.errors import GatewayError
from workbench.migration.campaign import Campaign
from workbench.secrets import SecretValue


@dataclass(frozen=True)
class BoundToken:
    """A token the token server issued, as its event log records it."""

    client_id: str
    jti: str
    token_fp: str
    """First 12 hex of SHA-256 of the token (the token itself is never stored)."""
    x5t_s256: str
    """Thumbprint of the certificate it is bound to."""
    expires: datetime


def token_url(campaign: Campaign, api_id: str | None = None) -> str:
    """The token endpoint in front of ``api_id``'s gateway (default: the first API's)."""
    from workbench.migration.gateway_ops import token_endpoint

    if api_id is None:
        if not campaign.inventory.apis:
            raise GatewayError("the inventory has no APIs: no token server to ask")
        api_id = campaign.inventory.apis[0].id
    return token_endpoint(campaign, api_id)


def fetch_bound_token(campaign: Campaign, service: str, api_id: str, *, step: str) -> SecretValue:
    """Get an access token for ``service`` bound to its active certificate of ``step``."""
    import httpx

    from workbench.migration.gateway_ops import gateway_for

    ws = campaign.workspace
    certs = [c for c in ws.active_certificates(step=step, kind="client") if c.service == service]
    if not certs:
        raise GatewayError(f"{service} has no active certificate for {step}: issue it first")
    cert = certs[0]
    url = token_url(campaign, api_id)
    ca = gateway_for(campaign, api_id).token_server_ca()
    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    ctx.load_cert_chain(str(ws.directory / cert.chain_path), str(ws.directory / cert.key_path))
    # RFC 8705 section 2: a tls_client_auth request names its client; here the service id,
    # which is also its certificate's CN.
    form = {
        "grant_type": "client_credentials",
        "client_id": service,
        "resource": campaign.inventory.api(api_id).url,
    }
    try:
        with httpx.Client(verify=ctx, timeout=5.0) as client:
            resp = client.post(url, data=form)
    except httpx.HTTPError as exc:
        raise GatewayError(
            f"token server {url} unreachable ({type(exc).__name__}): no bound token for "
            f"{service}, so mtls+token cannot be proved"
        ) from None
    try:
        body = resp.json()
    except ValueError:
        body = {}
    token = body.get("access_token") if isinstance(body, dict) else None
    if resp.status_code != 200 or not isinstance(token, str) or not token:
        error = str(body.get("error", "?"))[:64] if isinstance(body, dict) else "?"
        raise GatewayError(
            f"token server {url} refused {service}: HTTP {resp.status_code} {error}: no bound "
            "token, so mtls+token cannot be proved"
        )
    return SecretValue(token)


def issued_tokens(campaign: Campaign, *, live_at: datetime | None = None) -> list[BoundToken]:
    """Tokens the token server issued (still valid at ``live_at`` when given)."""
    from workbench.migration.gateway_ops import token_events_log

    log = token_events_log(campaign)
    if log is None or not log.exists():
        return []
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("endpoint") != "token" or rec.get("status") != 200 or "x5t_s256" not in rec:
            continue
        expires = datetime.fromtimestamp(int(rec["exp"]), UTC)
        if live_at is not None and expires <= live_at:
            continue
        out.append(
            BoundToken(
                rec.get("client_id", ""),
                rec.get("jti", ""),
                rec.get("token_fp", ""),
                rec["x5t_s256"],
                expires,
            )
        )
    return out
