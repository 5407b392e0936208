"""How to reach Vault (or OpenBao): read from the environment the way Vault's own CLI does.

``VAULT_ADDR``, ``VAULT_TOKEN``, ``VAULT_CACERT`` (or ``VAULT_CAPATH``), ``VAULT_NAMESPACE``
and ``VAULT_CLIENT_TIMEOUT``; AppRole (``VAULT_ROLE_ID`` + ``VAULT_SECRET_ID``) when no
token is set. The token lives only in this object (never in the workspace, never in repr);
``WORKBENCH_VAULT_APPROLE_PATH`` names a non-default AppRole mount (default ``approle``).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import PKIError

__all__ = ["DEFAULT_ADDR", "VaultSettings"]

DEFAULT_ADDR = "https://127.0.0.1:8200"  # Vault's CLI default
DEFAULT_TIMEOUT = 30.0
APPROLE_PATH_ENV = "WORKBENCH_VAULT_APPROLE_PATH"


@dataclass(frozen=True, repr=False)
class VaultSettings:
    """Where Vault is and how to authenticate. Secrets never appear in repr or str."""

    addr: str
    """Base URL, e.g. ``https://vault.example:8200``."""
    token: str | None = field(default=None, compare=False)
    """A Vault token (``VAULT_TOKEN``); None when AppRole is used."""
    role_id: str | None = field(default=None, compare=False)
    """AppRole role id (``VAULT_ROLE_ID``)."""
    secret_id: str | None = field(default=None, compare=False)
    """AppRole secret id (``VAULT_SECRET_ID``)."""
    namespace: str | None = None
    """Vault Enterprise / OpenBao namespace (``VAULT_NAMESPACE``), sent as X-Vault-Namespace."""
    cacert: str | None = None
    """CA file that signed Vault's TLS certificate (``VAULT_CACERT``)."""
    capath: str | None = None
    """Directory of CA files (``VAULT_CAPATH``)."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds per request (``VAULT_CLIENT_TIMEOUT``)."""
    approle_path: str = "approle"
    """Mount of the AppRole auth method."""

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, default_addr: str | None = None
    ) -> VaultSettings:
        """Settings from ``env`` (default ``os.environ``); ``default_addr`` when VAULT_ADDR is
        unset (the address recorded at ``init``), else Vault's own default."""
        env = os.environ if env is None else env
        addr = (env.get("VAULT_ADDR") or default_addr or DEFAULT_ADDR).rstrip("/")
        parts = urlsplit(addr)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PKIError(f"VAULT_ADDR={addr!r} is not an http(s)://host:port URL: fix it")
        timeout_text = env.get("VAULT_CLIENT_TIMEOUT") or ""
        try:
            timeout = float(timeout_text.rstrip("s")) if timeout_text else DEFAULT_TIMEOUT
        except ValueError:
            raise PKIError(
                f"VAULT_CLIENT_TIMEOUT={timeout_text!r} is not a number of seconds: fix it"
            ) from None
        for name in ("VAULT_CACERT", "VAULT_CAPATH"):
            value = env.get(name)
            if value and not os.path.exists(value):
                raise PKIError(f"{name}={value}: no such file or directory: fix the path")
        token = env.get("VAULT_TOKEN") or None
        role_id = env.get("VAULT_ROLE_ID") or None
        secret_id = env.get("VAULT_SECRET_ID") or None
        if token is None and (role_id is None) != (secret_id is None):
            missing = "VAULT_SECRET_ID" if secret_id is None else "VAULT_ROLE_ID"
            raise PKIError(
                f"AppRole login needs both VAULT_ROLE_ID and VAULT_SECRET_ID: set {missing}"
            )
        return cls(
            addr=addr,
            token=token,
            role_id=role_id,
            secret_id=secret_id,
            namespace=(env.get("VAULT_NAMESPACE") or "").strip("/") or None,
            cacert=env.get("VAULT_CACERT") or None,
            capath=env.get("VAULT_CAPATH") or None,
            timeout=timeout if timeout > 0 else DEFAULT_TIMEOUT,
            approle_path=(env.get(APPROLE_PATH_ENV) or "approle").strip("/"),
        )

    @property
    def auth_method(self) -> str:
        """``token``, ``approle`` or ``none``."""
        if self.token:
            return "token"
        if self.role_id and self.secret_id:
            return "approle"
        return "none"

    def require_auth(self) -> None:
        """A clear error when neither a token nor AppRole credentials are set."""
        if self.auth_method == "none":
            raise PKIError(
                "no Vault credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID "
                "for AppRole login"
            )

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What httpx's ``verify=`` gets: a context trusting VAULT_CACERT/VAULT_CAPATH, or the
        system store; plain ``http://`` needs none."""
        if not self.addr.startswith("https://"):
            return True
        try:
            return ssl.create_default_context(cafile=self.cacert, capath=self.capath)
        except (OSError, ssl.SSLError) as exc:
            raise PKIError(
                f"cannot load VAULT_CACERT/VAULT_CAPATH ({exc.__class__.__name__}): "
                "point it at a PEM CA file"
            ) from None

    def public(self) -> dict[str, Any]:
        """Facts safe to print or store (no token, no secret id)."""
        return {
            "addr": self.addr,
            "namespace": self.namespace,
            "auth": self.auth_method,
            "cacert": self.cacert,
        }

    def __repr__(self) -> str:
        return (
            f"VaultSettings(addr={self.addr!r}, namespace={self.namespace!r}, "
            f"auth={self.auth_method!r})"
        )

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("VaultSettings holds a Vault token and cannot be pickled (req. 12)")
