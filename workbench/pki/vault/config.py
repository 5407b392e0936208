"""What a workspace records about its Vault issuer (``ca/issuer.json``): no secret in it.

Layout of the CA directory of a Vault workspace (0700)::

    issuer.json     kind, address, namespace, mount, roles, trust domain, chain digests (0644)
    chain.pem       the mount's issuing CA chain (issuing CA first, root last): the gateways'
                    client CA bundle and what issued chain files end with (0644)
    root.crt        the root of that chain (0644)
    server-ca/      only without a server role: a local CA for the gateway's TLS certificate

The workspace holds no CA private key for client certificates and never the Vault token.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import PKIError

__all__ = ["ISSUER_FILE", "SERVER_CA_DIR", "VaultConfig", "check_mount", "check_role"]

ISSUER_FILE = "issuer.json"
SERVER_CA_DIR = "server-ca"
_MOUNT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")
_ROLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]*")


def check_mount(mount: str, flag: str = "--vault-mount") -> str:
    """A mount path such as ``pki`` or ``teams/pki`` (no ``..``, no leading slash)."""
    value = (mount or "").strip().strip("/")
    if not value or not _MOUNT.fullmatch(value) or ".." in value.split("/"):
        raise PKIError(f"{flag} {mount!r} is not a Vault mount path: use e.g. pki or teams/pki")
    return value


def check_role(role: str, flag: str = "--vault-role") -> str:
    """A role name as Vault accepts it in ``sign/<role>``."""
    if not role or not _ROLE.fullmatch(role):
        raise PKIError(f"{flag} {role!r} is not a Vault role name: use letters, digits, _ . - @")
    return role


@dataclass(frozen=True)
class VaultConfig:
    """The Vault issuer of one workspace."""

    addr: str
    """VAULT_ADDR at ``init``; used when VAULT_ADDR is unset later."""
    mount: str
    """PKI engine mount (``pki``): ``/v1/<mount>/sign/<role>``."""
    role: str
    """Role that signs client certificates (client_flag, allowed_uri_sans spiffe://...)."""
    trust_domain: str
    """SPIFFE trust domain of the client identities."""
    chain_sha256: str
    """SHA-256 of chain.pem: a mount whose issuer changed is noticed, not trusted blindly."""
    root_sha256: str
    """SHA-256 (DER) of the chain's root."""
    server_role: str | None = None
    """Role for the gateway's TLS certificate (server_flag); None: a local CA makes it."""
    root_mount: str | None = None
    """Mount of the root when chain.pem has an intermediate: its CRL comes from there."""
    namespace: str | None = None
    """VAULT_NAMESPACE at ``init``."""
    format: int = 1
    kind: str = "vault"

    @property
    def server_ca(self) -> str:
        """``vault`` or ``local``: who signs the gateway's TLS certificate."""
        return "vault" if self.server_role else "local"

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2).encode() + b"\n"

    @classmethod
    def load(cls, directory: Path) -> VaultConfig:
        path = Path(directory) / ISSUER_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
            if data.get("kind") != "vault" or data.get("format") != 1:
                raise ValueError
            return cls(**data)
        except (OSError, ValueError, TypeError):
            raise PKIError(
                f"{path} is not a workbench Vault issuer file: re-run `workbench init --issuer "
                "vault ...` in a new workspace"
            ) from None
