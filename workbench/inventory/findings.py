"""Findings: risky but legal facts about an inventory (not errors).

Codes (stable; the planner and the playbook may key on them):

- ``key-spans-environments`` (high): the key's API and consumers are in more than one
  environment (a prod key reachable from staging, ...).
- ``key-third-party`` (high): a partner-exposed or third-party consumer holds the key.
- ``key-shared`` (warning): ``shared_threshold`` or more services share one key.
- ``key-orphaned`` (warning): no integration uses the key (revoke it, or find its users).
- ``key-never-rotated`` (warning): no ``last_rotated``.
- ``key-rotation-stale`` (warning): rotated more than ``stale_days`` ago.
- ``key-widely-found`` (warning): seen in ``found_threshold`` or more places.
- ``key-needs-triage`` (warning): imported from a scanner, API not known yet.
- ``api-unclassified`` (info): an API with no data classes.
- ``integration-duplicate`` (info): the same consumer/key pair is listed twice.
"""

from __future__ import annotations

from datetime import date

from workbench.inventory.model import Finding, Inventory, Location, Severity

__all__ = ["UNASSIGNED_API_ID", "find_findings", "has_failing_findings"]

UNASSIGNED_API_ID = "unassigned"
"""Placeholder API that scanner imports attach keys to until someone triages them."""

_NO_LOC = ("\uffff", 0, 0)


NO_HEALTH_PATH = "api-no-health-path"
"""Finding code: ``cutover`` refuses such an API before changing anything."""


def _sort_key(f: Finding) -> tuple:
    loc = f.location
    where = (loc.file, loc.line, loc.col) if loc else _NO_LOC
    return (*where, f.code, f.subject)


def find_findings(
    inv: Inventory,
    *,
    today: date,
    shared_threshold: int = 3,
    stale_days: int = 365,
    found_threshold: int = 3,
) -> list[Finding]:
    """All findings, ordered by where their subject is declared, then by code."""
    out: list[Finding] = []

    def add(code: str, sev: Severity, subject: str, msg: str, loc: Location | None) -> None:
        out.append(Finding(code=code, severity=sev, subject=subject, message=msg, location=loc))

    services = inv.services_by_id
    apis = inv.apis_by_id
    for api in inv.apis:
        if not api.health_path and api.id != UNASSIGNED_API_ID:
            add(
                NO_HEALTH_PATH,
                Severity.HIGH,
                api.id,
                f"api {api.id} has no health_path: the verifier cannot run a positive control, "
                "so no key of it can be cut over; add health_path (a GET answering 2xx to an "
                "authorised caller, e.g. /health)",
                api.location,
            )
        if not api.data_classes and api.id != UNASSIGNED_API_ID:
            add(
                "api-unclassified",
                Severity.INFO,
                api.id,
                f"api {api.id} has no data classes; label it so the plan can weigh it",
                api.location,
            )
    for key in inv.keys:
        consumers = inv.consumers_of(key.id)
        api = apis.get(key.api)
        loc = key.location
        if key.api == UNASSIGNED_API_ID:
            add(
                "key-needs-triage",
                Severity.WARNING,
                key.id,
                f"key {key.id} was found by a scanner; set its api and consumers",
                loc,
            )
        envs = {services[c].environment for c in consumers if c in services}
        if api is not None and key.api != UNASSIGNED_API_ID:
            envs.add(api.environment)
        if len(envs) > 1:
            add(
                "key-spans-environments",
                Severity.HIGH,
                key.id,
                f"key {key.id} is used across environments ({', '.join(sorted(envs))}); "
                "issue one certificate per environment",
                loc,
            )
        outside = [
            c
            for c in consumers
            if c in services and (services[c].third_party or services[c].exposure == "partner")
        ]
        if outside:
            add(
                "key-third-party",
                Severity.HIGH,
                key.id,
                f"key {key.id} is held by partner or third-party consumers "
                f"({', '.join(outside)}); coordinate their cut-over",
                loc,
            )
        if not consumers:
            add(
                "key-orphaned",
                Severity.WARNING,
                key.id,
                f"key {key.id} has no consumer; find its users or revoke it",
                loc,
            )
        elif len(consumers) >= shared_threshold:
            add(
                "key-shared",
                Severity.WARNING,
                key.id,
                f"key {key.id} is shared by {len(consumers)} services; each gets its own "
                "certificate",
                loc,
            )
        if key.last_rotated is None:
            since = f" since {key.created.isoformat()}" if key.created else ""
            add(
                "key-never-rotated",
                Severity.WARNING,
                key.id,
                f"key {key.id} has never been rotated{since}",
                loc,
            )
        elif (age := (today - key.last_rotated).days) > stale_days:
            add(
                "key-rotation-stale",
                Severity.WARNING,
                key.id,
                f"key {key.id} was last rotated {age} days ago (limit {stale_days})",
                loc,
            )
        if len(key.found_in) >= found_threshold:
            add(
                "key-widely-found",
                Severity.WARNING,
                key.id,
                f"key {key.id} was found in {len(key.found_in)} places; clean them up "
                "after cut-over",
                loc,
            )
    seen: set[tuple[str, str]] = set()
    for i in inv.integrations:
        pair = (i.consumer, i.key)
        if pair in seen:
            add(
                "integration-duplicate",
                Severity.INFO,
                i.key,
                f"integration {i.consumer} -> {i.key} is listed more than once",
                i.location,
            )
        seen.add(pair)
    out.sort(key=_sort_key)
    return out


def has_failing_findings(findings: list[Finding]) -> bool:
    """True when any finding is a warning or worse (the CLI then exits 1)."""
    return any(f.severity is not Severity.INFO for f in findings)
