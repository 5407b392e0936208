"""The Vault (and OpenBao) PKI issuer: keys made locally, CSRs signed by the company's CA.

``settings`` reads VAULT_* like Vault's CLI; ``client`` talks HTTP (one bounded httpx pool);
``diagnose`` turns failures into one line; ``issuer`` implements the Issuer protocol;
``config`` and ``setup`` are what a workspace records and how ``init`` connects it.
"""

from __future__ import annotations

from workbench.pki.vault.client import VaultClient, VaultReply
from workbench.pki.vault.config import ISSUER_FILE, SERVER_CA_DIR, VaultConfig
from workbench.pki.vault.issuer import VaultIssuer
from workbench.pki.vault.response import colon_serial, issued_from_certificate
from workbench.pki.vault.settings import VaultSettings
from workbench.pki.vault.setup import VaultConnection, VaultTarget, connect_vault, open_vault_issuer

__all__ = [
    "ISSUER_FILE",
    "SERVER_CA_DIR",
    "VaultClient",
    "VaultConfig",
    "VaultConnection",
    "VaultIssuer",
    "VaultReply",
    "VaultSettings",
    "VaultTarget",
    "colon_serial",
    "connect_vault",
    "issued_from_certificate",
    "open_vault_issuer",
]
