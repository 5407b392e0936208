"""A Campaign: an open workspace with its inventory and (lazily) its CA."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workbench.errors import PKIError
from workbench.gateway.handle import GatewayFactory, registered_kinds
from workbench.inventory.model import Inventory
from workbench.workspace import Workspace

PASSPHRASE_ENV = "WORKBENCH_CA_PASSPHRASE"  # noqa: S105 (a variable name)
CA_DIR = "ca"
CRL_DIR = "crl"
ISSUER_FILE = "issuer.json"  # present when the issuer is Vault (workbench.pki.vault.config)
SERVER_CA_DIR = "server-ca"  # a Vault workspace's local CA for the gateway's TLS certificate

PassphraseSource = Callable[[], str | None]


def passphrase_from_env() -> str | None:
    return os.environ.get(PASSPHRASE_ENV)


@dataclass
class Campaign:
    """Everything one migration needs, opened once per command."""

    workspace: Workspace
    inventory: Inventory
    passphrase: PassphraseSource = passphrase_from_env
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    old_key_env: Mapping[str, str] = field(default_factory=dict)
    """Values for ``env:`` secret references given in this session (the TUI's masked prompt),
    looked up before ``os.environ``; memory only, never written or logged."""
    _ca: object | None = None
    gateway_kinds: Mapping[str, GatewayFactory] = field(default_factory=registered_kinds)
    """Gateway kind -> handle factory (the core's kinds plus what the front end plugged in)."""
    gateway_handles: dict[str, object] = field(default_factory=dict)
    """Handles made so far, by gateway id (one per gateway and campaign)."""

    @property
    def directory(self) -> Path:
        return self.workspace.directory

    @property
    def ca_dir(self) -> Path:
        return self.directory / CA_DIR

    @property
    def crl_dir(self) -> Path:
        return self.directory / CRL_DIR

    @property
    def trust_domain(self) -> str:
        return self.workspace.info().trust_domain

    @property
    def issuer_kind(self) -> str:
        """``local`` (the workspace's own CA) or ``vault`` (a Vault/OpenBao PKI mount)."""
        return "vault" if (self.ca_dir / ISSUER_FILE).exists() else "local"

    @property
    def server_ca_file(self) -> Path:
        """What clients trust for the gateway's TLS certificate (the client CA bundle is
        ``ca_dir / "chain.pem"``; they differ when a Vault workspace has a local server CA)."""
        local_server = self.ca_dir / SERVER_CA_DIR / "chain.pem"
        return local_server if local_server.exists() else self.ca_dir / "chain.pem"

    @property
    def server_root_file(self) -> Path:
        """The root of ``server_ca_file``."""
        local_server = self.ca_dir / SERVER_CA_DIR / "root.crt"
        return local_server if local_server.exists() else self.ca_dir / "root.crt"

    def ca(self):  # -> LocalCA or VaultIssuer (imported lazily: cryptography is heavy)
        if self._ca is None and self.issuer_kind == "vault":
            from workbench.pki.vault import open_vault_issuer

            self._ca = open_vault_issuer(self.ca_dir, passphrase=self.passphrase)
        if self._ca is None:
            from workbench.pki import LocalCA

            secret = self.passphrase()
            if not secret:
                raise PKIError(
                    f"the CA key is encrypted: set {PASSPHRASE_ENV} (or answer the prompt)"
                )
            self._ca = LocalCA.load(self.ca_dir, secret)
        return self._ca

    def wave_steps(self, wave: int) -> list[str]:
        """The step keys of a wave, in plan order; a clear error for an empty or unknown wave."""
        from workbench.errors import UnknownIdError

        steps = [s.key for s in self.workspace.steps(wave=wave)]
        if not steps:
            raise UnknownIdError("wave", wave, {s.wave for s in self.workspace.steps()})
        return steps

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        close_issuer = getattr(self._ca, "close", None)
        if close_issuer is not None:
            close_issuer()  # the Vault issuer's HTTP pool
        self.workspace.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_campaign(
    directory: Path | str,
    *,
    passphrase: PassphraseSource = passphrase_from_env,
    clock: Callable[[], datetime] | None = None,
    gateway_kinds: Mapping[str, GatewayFactory] | None = None,
) -> Campaign:
    """Open the workspace at ``directory`` and reload its inventory (validated again)."""
    from workbench.inventory import load_inventory

    ws = Workspace.open(Path(directory))
    try:
        inventory = load_inventory(Path(ws.info().inventory_path))
    except BaseException:
        ws.close()
        raise
    kwargs: dict = {"clock": clock} if clock else {}
    if gateway_kinds is not None:
        kwargs["gateway_kinds"] = gateway_kinds
    return Campaign(ws, inventory, passphrase, **kwargs)
