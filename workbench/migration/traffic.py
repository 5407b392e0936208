"""Simulated consumer traffic for a step (demo and notebooks): each consumer calls the API."""

from __future__ import annotations

from workbench.migration.campaign import Campaign
from workbench.migration.usage import old_key
from workbench.migration.verification import probe_url


def consumer_calls(campaign: Campaign, step_key: str, credential: str = "key") -> list:
    """Every consumer of ``step_key`` calls its API once, with the old key or its certificate."""
    from workbench.sample_env.consumers import call_with_cert, call_with_key

    inv, ws = campaign.inventory, campaign.workspace
    key = inv.key(step_key)
    url = probe_url(inv.api(key.api))
    ca = campaign.ca_dir / "chain.pem"
    calls = []
    if credential == "key":
        secret = old_key(campaign, step_key)
        for service in inv.consumers_of(step_key):
            calls.append(call_with_key(url, key.header, secret, ca, service))
        return calls
    certs = {c.service: c for c in ws.active_certificates(step=step_key, kind="client")}
    for service in inv.consumers_of(step_key):
        c = certs.get(service)
        if c is None:
            continue
        calls.append(
            call_with_cert(url, ws.directory / c.chain_path, ws.directory / c.key_path, ca, service)
        )
    return calls
