"""Change-ticket playbook export (security requirements 11, 22, 24).

The caller (CLI ``workbench export playbook``, TUI, notebook) fills :class:`TicketContext` /
:class:`WaveContext` from the plan, workspace, verifier and gateway logs, then calls
:func:`export_playbooks`. Formats: ``md`` (jinja2 templates in ``playbooks/``), ``yaml`` and
``json`` (schema ``workbench.playbook/v2``, JSON Schema in ``playbooks/schema/ticket.v2.json``)
and ``csv`` (one bulk-import row per ticket).
"""

from workbench.playbook.document import (
    PRIORITY_THRESHOLDS,
    SCHEMA_ID,
    priority_for,
    ticket_document,
    wave_document,
)
from workbench.playbook.export import CSV_FILE, export_playbooks, render_playbooks
from workbench.playbook.mermaid import derive_mermaid
from workbench.playbook.model import (
    DEFAULT_PROBES,
    DEFAULT_ROLLBACK_PROBES,
    ApiRef,
    AuditRef,
    CertificateRef,
    ClientUsage,
    Command,
    CommandSet,
    ConsumerRef,
    KeyUsage,
    ProbeResult,
    ProbeSpec,
    RiskReason,
    Schedule,
    TicketContext,
    VerdictRecord,
    WaveContext,
    default_commands,
)
from workbench.playbook.render import FORMATS, default_templates_dir, ticket_schema

__all__ = [
    "CSV_FILE",
    "DEFAULT_PROBES",
    "DEFAULT_ROLLBACK_PROBES",
    "FORMATS",
    "PRIORITY_THRESHOLDS",
    "SCHEMA_ID",
    "ApiRef",
    "AuditRef",
    "CertificateRef",
    "ClientUsage",
    "Command",
    "CommandSet",
    "ConsumerRef",
    "KeyUsage",
    "ProbeResult",
    "ProbeSpec",
    "RiskReason",
    "Schedule",
    "TicketContext",
    "VerdictRecord",
    "WaveContext",
    "default_commands",
    "default_templates_dir",
    "derive_mermaid",
    "export_playbooks",
    "priority_for",
    "render_playbooks",
    "ticket_schema",
    "ticket_document",
    "wave_document",
]
