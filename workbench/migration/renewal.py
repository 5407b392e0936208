"""`workbench renew`: re-issue client certificates that expire within a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from workbench.migration.campaign import Campaign
from workbench.migration.issuance import issue_step

DEFAULT_RENEW_BEFORE = timedelta(days=2)


@dataclass(frozen=True)
class RenewOutcome:
    """What a renewal run did."""

    renewed: tuple[tuple[str, str, str, str], ...]
    """(step, service, old serial, new serial) for each renewed certificate."""
    bound_token_warnings: tuple[str, ...]
    """One sentence per renewed certificate whose ``x5t#S256`` changes (RFC 8705 tokens
    bound to the old certificate stop working)."""


def renew_expiring(
    campaign: Campaign,
    *,
    renew_before: timedelta = DEFAULT_RENEW_BEFORE,
    step: str | None = None,
    force: bool = False,
) -> RenewOutcome:
    """Renew active client certificates expiring within ``renew_before`` (all with ``force``)."""
    ws = campaign.workspace
    now = campaign.now()
    due = [
        c
        for c in ws.active_certificates(kind="client")
        if c.step_key
        and (step is None or c.step_key == step)
        and (force or c.not_after - now <= renew_before)
    ]
    renewed: list[tuple[str, str, str, str]] = []
    warnings: list[str] = []
    from workbench.migration.tokens import issued_tokens

    live = issued_tokens(campaign, live_at=now) if due else []
    for step_key in sorted({c.step_key for c in due if c.step_key}):
        old = {c.service: c for c in due if c.step_key == step_key}
        outcome = issue_step(campaign, step_key, renew=True, services=tuple(old))
        for new in outcome.certificates:
            if new.service in old:
                prev = old[new.service]
                renewed.append((step_key, new.service, prev.serial, new.serial))
                bound = [t for t in live if t.x5t_s256 == prev.x5t_s256]
                for t in bound:
                    warnings.append(
                        f"{new.service}: token jti={t.jti} (fp {t.token_fp}, valid until "
                        f"{t.expires:%Y-%m-%d %H:%M:%S}Z) is bound to x5t#S256 {prev.x5t_s256} "
                        "and stops working: fetch a new one with the new certificate"
                    )
                if not bound:
                    warnings.append(
                        f"{new.service}: x5t#S256 changes {prev.x5t_s256} -> {new.x5t_s256}; "
                        "any token bound to the old certificate stops working (none live known)"
                    )
    return RenewOutcome(tuple(renewed), tuple(warnings))
