"""Migration operations: the workspace, the CA and the plan working together.

One function per user-visible operation (init, issue, revoke, crl, renew, status); the CLI,
the TUI and the notebooks call these, never the storage layers directly.
"""

from workbench.migration.campaign import Campaign, open_campaign
from workbench.migration.issuance import (
    IssueOutcome,
    issue_gateway_certificate,
    issue_step,
    issue_steps,
)
from workbench.migration.renewal import RenewOutcome, renew_expiring
from workbench.migration.revocation import CrlOutcome, publish_crls, revoke
from workbench.migration.setup import InitResult, init_workspace
from workbench.migration.status import StatusReport, status_report

__all__ = [
    "Campaign",
    "CrlOutcome",
    "InitResult",
    "IssueOutcome",
    "RenewOutcome",
    "StatusReport",
    "init_workspace",
    "issue_gateway_certificate",
    "issue_step",
    "issue_steps",
    "open_campaign",
    "publish_crls",
    "renew_expiring",
    "revoke",
    "status_report",
]
