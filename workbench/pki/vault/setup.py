"""Connect a workspace to a Vault PKI mount (``init --issuer vault``) and open it later."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from workbench.errors import PKIError
from workbench.pki.keystore import write_public_file
from workbench.pki.vault.client import VaultClient
from workbench.pki.vault.config import (
    SERVER_CA_DIR,
    VaultConfig,
    check_mount,
    check_role,
)
from workbench.pki.vault.issuer import VaultIssuer
from workbench.pki.vault.settings import VaultSettings

__all__ = ["VaultConnection", "VaultTarget", "connect_vault", "open_vault_issuer"]


@dataclass(frozen=True)
class VaultTarget:
    """What ``init --issuer vault`` was told: the mount and roles to use."""

    mount: str
    """PKI mount (``--vault-mount``)."""
    role: str
    """Client-certificate role (``--vault-role``)."""
    server_role: str | None = None
    """Server-certificate role (``--vault-server-role``); None: a local CA signs it."""
    root_mount: str | None = None
    """Mount of the root when the issuing CA is an intermediate (``--vault-root-mount``)."""

    def checked(self) -> VaultTarget:
        return VaultTarget(
            check_mount(self.mount),
            check_role(self.role),
            check_role(self.server_role, "--vault-server-role") if self.server_role else None,
            check_mount(self.root_mount, "--vault-root-mount") if self.root_mount else None,
        )


@dataclass(frozen=True)
class VaultConnection:
    """What connecting found."""

    config: VaultConfig
    """Written to ``issuer.json``."""
    request_id: str | None
    """Vault's request id of the chain read."""
    chain_length: int
    """CAs in the chain (1: the mount's root signs leaves)."""
    root_subject: str
    """The root's subject, for the user to recognise."""


def _check_chain(chain: list[x509.Certificate], where: str) -> None:
    for child, parent in zip(chain, chain[1:], strict=False):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise PKIError(f"{where}: the chain is out of order or broken") from None
    root = chain[-1]
    try:
        root.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        raise PKIError(
            f"{where}: the chain ends at {root.subject.rfc4514_string()}, which is not a root: "
            "import the full chain into the mount (set-signed with the root appended)"
        ) from None
    for ca in chain:
        try:
            bc = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            bc = None
        if bc is None or not bc.ca:
            raise PKIError(f"{where}: {ca.subject.rfc4514_string()} is not a CA certificate")


def _check_namespace(token_info: object, settings: VaultSettings) -> None:
    """A token acts only in its own namespace and below: catch a forgotten VAULT_NAMESPACE
    before the unauthenticated chain read silently finds another namespace's CA."""
    info = token_info if isinstance(token_info, dict) else {}
    own = str(info.get("namespace_path") or "").strip("/")
    configured = settings.namespace or ""
    if own and configured != own and not configured.startswith(own + "/"):
        raise PKIError(
            f"Vault GET /v1/auth/token/lookup-self: the token belongs to namespace {own} but "
            f"VAULT_NAMESPACE is {configured or 'unset'}: set VAULT_NAMESPACE={own}"
        )


def connect_vault(
    directory: Path,
    target: VaultTarget,
    *,
    trust_domain: str,
    env: Mapping[str, str] | None = None,
    client: VaultClient | None = None,
) -> VaultConnection:
    """Check the credentials, read the mount's CA chain and write ``chain.pem``, ``root.crt``
    and ``issuer.json`` into ``directory`` (a fresh temporary directory the caller renames)."""
    target = target.checked()
    settings = VaultSettings.from_env(env)
    settings.require_auth()
    own = client is None
    client = client or VaultClient(settings, max_connections=2)
    try:
        me = client.call("GET", "auth/token/lookup-self")  # a bad token fails here, clearly
        _check_namespace(me.data, settings)
        path = f"{target.mount}/cert/ca_chain"
        reply = client.call("GET", path)
        data = reply.data if isinstance(reply.data, dict) else {}
        pem = data.get("ca_chain") or data.get("certificate") or ""
        if isinstance(pem, list):
            pem = "\n".join(pem)
        try:
            chain = x509.load_pem_x509_certificates(str(pem).encode())
        except ValueError:
            raise PKIError(
                f"Vault GET /v1/{path}: the mount has no CA yet: generate or import one "
                f"(pki/root/generate/internal, or an intermediate) first"
            ) from None
        _check_chain(chain, f"Vault GET /v1/{path}")
        if len(chain) > 1 and not target.root_mount:
            raise PKIError(
                f"Vault GET /v1/{path}: the mount issues from an intermediate: pass "
                "--vault-root-mount with the mount of its root (gateways need the root's CRL)"
            )
    finally:
        if own:
            client.close()
    chain_pem = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
    root = chain[-1]
    config = VaultConfig(
        addr=settings.addr,
        mount=target.mount,
        role=target.role,
        trust_domain=trust_domain,
        chain_sha256=hashlib.sha256(chain_pem).hexdigest(),
        root_sha256=hashlib.sha256(root.public_bytes(Encoding.DER)).hexdigest(),
        server_role=target.server_role,
        root_mount=target.root_mount,
        namespace=settings.namespace,
    )
    base = directory.parent
    write_public_file(directory / "chain.pem", chain_pem, base=base)
    write_public_file(directory / "root.crt", root.public_bytes(Encoding.PEM), base=base)
    from workbench.pki.vault.config import ISSUER_FILE

    write_public_file(directory / ISSUER_FILE, config.to_json(), base=base)
    return VaultConnection(config, reply.request_id, len(chain), root.subject.rfc4514_string())


def open_vault_issuer(
    directory: Path,
    *,
    passphrase: Callable[[], str | None] | None = None,
    env: Mapping[str, str] | None = None,
    max_connections: int = 8,
) -> VaultIssuer:
    """The workspace's VaultIssuer; VAULT_* from ``env`` (address and namespace default to
    those recorded at init). ``passphrase`` unlocks the local server CA when there is one."""
    directory = Path(directory)
    config = VaultConfig.load(directory)
    settings = VaultSettings.from_env(env, default_addr=config.addr)
    if settings.namespace is None and config.namespace:
        from dataclasses import replace

        settings = replace(settings, namespace=config.namespace)

    def server_ca():
        from workbench.pki.ca import LocalCA

        secret = passphrase() if passphrase else None
        if not secret:
            raise PKIError(
                "the gateway's server certificate comes from the local server CA, whose key is "
                "encrypted: set WORKBENCH_CA_PASSPHRASE (or pass --vault-server-role at init)"
            )
        return LocalCA.load(directory / SERVER_CA_DIR, secret)

    client = VaultClient(settings, max_connections=max_connections)
    try:
        return VaultIssuer(directory, config, client, server_ca=server_ca)
    except BaseException:
        client.close()
        raise
