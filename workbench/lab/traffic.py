"""Simulated consumer traffic for a step (demo and notebooks): each consumer calls the API."""

from __future__ import annotations

from workbench.lab.consumers import call_with_cert, call_with_key
from workbench.migration.campaign import Campaign
from workbench.migration.usage import old_key
from workbench.migration.verification import probe_url


def consumer_calls(campaign: Campaign, step_key: str, credential: str = "key") -> list:
    """Every consumer of ``step_key`` calls its API once: ``key`` (the old key), ``cert`` (its
    certificate) or ``cert+token`` (certificate and a freshly fetched bound access token)."""
    inv, ws = campaign.inventory, campaign.workspace
    key = inv.key(step_key)
    url = probe_url(inv.api(key.api))
    ca = campaign.server_ca_file  # what consumers trust for the gateway's TLS certificate
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
        token = None
        if credential == "cert+token":
            from workbench.migration.tokens import fetch_bound_token

            token = fetch_bound_token(campaign, service, key.api, step=step_key)
        chain, private_key = ws.directory / c.chain_path, ws.directory / c.key_path
        calls.append(call_with_cert(url, chain, private_key, ca, service, token))
    return calls
