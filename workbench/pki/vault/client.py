"""A small Vault HTTP client: one bounded, reused httpx connection pool, token or AppRole.

Every failure becomes one PKIError line naming the Vault path and what to fix
(``workbench.pki.vault.diagnose``); the token never appears in a message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import PKIError
from workbench.pki.vault.diagnose import explain_http_error, explain_transport_error
from workbench.pki.vault.settings import VaultSettings

if TYPE_CHECKING:
    import httpx

__all__ = ["VaultClient", "VaultReply"]

DEFAULT_MAX_CONNECTIONS = 8


@dataclass(frozen=True)
class VaultReply:
    """The useful parts of a Vault answer."""

    data: Any
    """``data`` of a JSON answer, or the body text of a raw (PEM) one."""
    request_id: str | None
    """Vault's ``request_id`` (kept in the audit chain)."""
    warnings: tuple[str, ...] = field(default=())
    """Vault's ``warnings`` (e.g. a TTL capped to the role's max_ttl)."""


class VaultClient:
    """Thread-safe: ``issue --wave`` signs from several threads through one pool."""

    def __init__(
        self,
        settings: VaultSettings,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # here, not at import: httpx's package import loads click and rich

        self.settings = settings
        headers = {"X-Vault-Request": "true"}
        if settings.namespace:
            headers["X-Vault-Namespace"] = settings.namespace
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.Client(
            base_url=settings.addr,
            headers=headers,
            verify=settings.ssl_context(),
            timeout=settings.timeout,
            limits=limits,
            transport=transport,
            follow_redirects=False,
        )
        self._token: str | None = settings.token
        self._login_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VaultClient({self.settings!r})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("VaultClient holds a Vault token and cannot be pickled (req. 12)")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VaultClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- authentication ---------------------------------------------------------------------

    def _auth_token(self) -> str:
        if self._token is not None:
            return self._token
        self.settings.require_auth()
        with self._login_lock:
            if self._token is None:
                path = f"auth/{self.settings.approle_path}/login"
                reply = self.call(
                    "POST",
                    path,
                    {"role_id": self.settings.role_id, "secret_id": self.settings.secret_id},
                    auth=False,
                    whole=True,
                )
                auth = reply.data.get("auth") if isinstance(reply.data, dict) else None
                token = auth.get("client_token") if isinstance(auth, dict) else None
                if not token:
                    raise PKIError(
                        f"Vault {path}: the AppRole login returned no token: check the role"
                    )
                self._token = token
        return self._token

    def token_is_valid(self) -> bool:
        """Whether the current token still works (``auth/token/lookup-self``, allowed to
        every token by Vault's default policy)."""
        import httpx

        try:
            token = self._auth_token()
            resp = self._http.get("/v1/auth/token/lookup-self", headers={"X-Vault-Token": token})
        except (httpx.HTTPError, PKIError):
            return False
        return resp.status_code == 200

    # -- requests ----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        auth: bool = True,
        raw: bool = False,
        whole: bool = False,
    ) -> VaultReply:
        """``METHOD /v1/<path>``; the answer's ``data`` (``raw``: the body text; ``whole``:
        the whole JSON document). Raises PKIError with one line on any failure."""
        import httpx

        headers = {"X-Vault-Token": self._auth_token()} if auth else {}
        url = f"/v1/{path.lstrip('/')}"
        try:
            resp = self._http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PKIError(explain_transport_error(self.settings, method, path, exc)) from None
        if resp.status_code >= 300:
            raise PKIError(explain_http_error(self, method, path, resp)) from None
        if raw:
            return VaultReply(resp.text, resp.headers.get("X-Vault-Request-Id"))
        try:
            doc = resp.json()
        except ValueError:
            raise PKIError(
                f"Vault {method} /v1/{path}: the answer is not JSON: is VAULT_ADDR a Vault server?"
            ) from None
        if not isinstance(doc, dict):
            raise PKIError(f"Vault {method} /v1/{path}: unexpected answer: is VAULT_ADDR right?")
        warnings = tuple(str(w) for w in (doc.get("warnings") or ()))
        data = doc if whole else doc.get("data")
        return VaultReply(data, doc.get("request_id"), warnings)
