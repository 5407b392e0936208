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

    secret = old_key(campaign, step_key)
    api = campaign.inventory.key(step_key).api
    return read_usage(
        access_log(campaign, api),
        api=api,
        key_fingerprint=secret.fingerprint,
        since=since,
        exclude_runs=verifier_runs(campaign, step_key),
    )


def verifier_runs(campaign: Campaign, step_key: str) -> tuple:
    """``(token, start, end)`` of every recorded verifier run of the step (and of the
    before-observation its cut-over made): only those requests are the verifier's (req. 33)."""
    from workbench.gateway.usage import parse_time
    from workbench.verify.reading import VerdictReading

    runs = []
    for row in campaign.workspace.verdicts(step_key):
        reading = VerdictReading.from_row(row)
        for part in (reading.document, reading.before):
            token = (part.get("run") or {}).get("token")
            if token and part.get("started") and part.get("finished"):
                runs.append((token, parse_time(part["started"]), parse_time(part["finished"])))
    return tuple(runs)
