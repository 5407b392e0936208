"""Workspace storage: atomic files, safe paths, SQLite state and the audit log.

Everything else (PKI, verifier, gateways) records its state and audit through this package.
"""

from workbench.workspace.atomic import DurableBatch, atomic_write
from workbench.workspace.audit import AuditCheck, AuditRecord, verify_audit
from workbench.workspace.binding import (
    ChainHead,
    StateCheck,
    chain_head,
    check_anchors,
    check_state,
    parse_anchor,
)
from workbench.workspace.certbulk import CertificateRequest, ensure_certificates
from workbench.workspace.certfiles import (
    CertificateMaterial,
    CertPaths,
    certificate_paths,
    ensure_certificate,
    find_orphans,
    remove_orphans,
)
from workbench.workspace.paths import SAFE_ID_PATTERN, ensure_private_dir, safe_join
from workbench.workspace.records import (
    CertificateRecord,
    GatewayChange,
    Step,
    Verdict,
    WorkspaceInfo,
)
from workbench.workspace.steps import PlanChange
from workbench.workspace.store import Workspace

__all__ = [
    "SAFE_ID_PATTERN",
    "AuditCheck",
    "AuditRecord",
    "CertPaths",
    "CertificateMaterial",
    "CertificateRecord",
    "CertificateRequest",
    "ChainHead",
    "DurableBatch",
    "GatewayChange",
    "PlanChange",
    "StateCheck",
    "Step",
    "Verdict",
    "Workspace",
    "WorkspaceInfo",
    "atomic_write",
    "certificate_paths",
    "chain_head",
    "check_anchors",
    "check_state",
    "ensure_certificate",
    "ensure_certificates",
    "ensure_private_dir",
    "find_orphans",
    "parse_anchor",
    "remove_orphans",
    "safe_join",
    "verify_audit",
]
