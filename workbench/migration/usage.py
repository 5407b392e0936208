"""`workbench usage`: who still presents a step's old key, and when last (from gateway logs)."""

from __future__ import annotations

import os
from collections import ChainMap
from datetime import datetime
from pathlib import Path

from workbench.migration.campaign import Campaign
from workbench.migration.gateway_ops import access_log


def old_key(campaign: Campaign, step_key: str):
    """The step's old key as a SecretValue (never printed; only its fingerprint is used)."""
    from workbench.secrets import resolve_secret_ref

    key = campaign.inventory.key(step_key)
    if not key.secret_ref:
        from workbench.errors import InputError

        raise InputError(f"key {step_key} has no secret_ref: add one to the inventory")
    base = Path(campaign.inventory.source).parent if campaign.inventory.source else Path(".")
    environ = ChainMap(dict(campaign.old_key_env), os.environ) if campaign.old_key_env else None
    return resolve_secret_ref(key.secret_ref, base, environ=environ)


def step_usage(campaign: Campaign, step_key: str, *, since: datetime | None = None):
    """The gateway's record of the old key on the step's API (a ``UsageReport``)."""
    from workbench.gateway.usage import read_usage
    from workbench.verify.probe import USER_AGENT as VERIFIER_AGENT

    secret = old_key(campaign, step_key)
    api = campaign.inventory.key(step_key).api
    return read_usage(
        access_log(campaign, api),
        api=api,
        key_fingerprint=secret.fingerprint,
        since=since,
        exclude_agents=(VERIFIER_AGENT,),
    )
