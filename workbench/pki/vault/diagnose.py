"""Turn a failed Vault request into one line: the Vault path and what to fix.

Vault answers 403 "permission denied" both for a policy that lacks a capability and for a
token that has expired or was revoked; a ``lookup-self`` call (allowed to every valid token
by the default policy) tells the two apart.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from workbench.pki.vault.settings import VaultSettings

if TYPE_CHECKING:
    import httpx

    from workbench.pki.vault.client import VaultClient

__all__ = ["explain_http_error", "explain_transport_error"]

README_HINT = "see README 'Using your Vault or OpenBao PKI'"
_CAPABILITY = {"GET": "read", "LIST": "list", "POST": "update", "PUT": "update", "DELETE": "delete"}


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _errors(resp: httpx.Response) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return _one_line(resp.text) or resp.reason_phrase
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors:
        return _one_line("; ".join(str(e) for e in errors))
    return resp.reason_phrase or "no reason given"


def _ssl_reason(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "verify"
        if isinstance(seen, ssl.SSLError):
            return getattr(seen, "reason", None) or "tls"
        seen = seen.__cause__ or seen.__context__
    return None


def explain_transport_error(
    settings: VaultSettings, method: str, path: str, exc: httpx.HTTPError
) -> str:
    """No HTTP answer at all: unreachable, TLS trouble or a timeout."""
    import httpx  # here, not at import: httpx's package import loads click and rich

    where = f"Vault {method} {settings.addr}/v1/{path}"
    tls = _ssl_reason(exc)
    if tls == "verify":
        return (
            f"{where}: Vault's TLS certificate is not trusted: set VAULT_CACERT to the CA "
            "file that signed it"
        )
    if tls is not None:
        return f"{where}: TLS handshake failed ({tls}): check VAULT_ADDR's scheme and port"
    if isinstance(exc, httpx.TimeoutException):
        return (
            f"{where}: no answer within {settings.timeout:g} s: check that Vault is up and "
            "reachable (VAULT_ADDR), or raise VAULT_CLIENT_TIMEOUT"
        )
    return (
        f"{where}: Vault is unreachable ({exc.__class__.__name__}): check VAULT_ADDR and that "
        "the server is running"
    )


def explain_http_error(client: VaultClient, method: str, path: str, resp: httpx.Response) -> str:
    """An HTTP error answer: sealed, policy, expired token, role refusal, no such mount."""
    settings = client.settings
    where = f"Vault {method} /v1/{path}"
    message = _errors(resp)
    status = resp.status_code
    lowered = message.lower()
    if status == 503 and "sealed" in lowered:
        return (
            f"{where}: Vault at {settings.addr} is sealed: unseal it (`bao operator unseal` or "
            "`vault operator unseal`), then re-run"
        )
    if status == 503 and "standby" in lowered:
        return f"{where}: Vault is in standby with no active node: point VAULT_ADDR at the leader"
    if status in (401, 403):
        if path.startswith("auth/") and path.endswith("/login"):
            return (
                f"{where}: AppRole login refused ({message}): check VAULT_ROLE_ID and "
                "VAULT_SECRET_ID (a secret id can expire or run out of uses)"
            )
        if not client.token_is_valid():
            source = "VAULT_TOKEN" if settings.auth_method == "token" else "the AppRole token"
            return (
                f"{where}: permission denied because {source} is expired, revoked or invalid: "
                "log in again (`bao login` / `vault login`) or renew it, then re-run"
            )
        capability = _CAPABILITY.get(method.upper(), method.lower())
        ns = f" in namespace {settings.namespace}" if settings.namespace else ""
        return (
            f"{where}: permission denied by policy{ns}: grant the token's policy "
            f'capabilities ["{capability}"] on path "{path}" ({README_HINT})'
        )
    if status == 400:
        return f"{where}: Vault refused the request: {message}; {_fix_for_400(lowered)}"
    if status == 404:
        return (
            f"{where}: not found ({message}): is a PKI engine mounted there (--vault-mount)"
            f"{' and is VAULT_NAMESPACE right' if settings.namespace else ''}?"
        )
    if status == 405:
        return f"{where}: method not allowed: is this a PKI engine mount (--vault-mount)?"
    if status == 429:
        return f"{where}: Vault rate-limited the request (429): retry later or raise its quota"
    return f"{where}: HTTP {status}: {message}"


def _fix_for_400(message: str) -> str:
    if "unknown role" in message or "role" in message and "not found" in message:
        return "check --vault-role (the role must exist on this mount)"
    if "uri subject alternative names" in message or "uri_sans" in message:
        return 'allow the SPIFFE IDs in the role: allowed_uri_sans="spiffe://<trust-domain>/*"'
    if "ttl" in message or "notafter" in message or "not_after" in message:
        return (
            "ask for a shorter --lifetime, or raise the role's max_ttl / renew the issuing CA "
            "(it must outlive the certificate)"
        )
    if "key" in message and ("type" in message or "bits" in message):
        return "set the role's key_type to ec (or any) and key_bits to 256 (or 0)"
    if "common name" in message or "common_name" in message:
        return "let the role accept service ids as names (allow_any_name=true)"
    if "ip sans" in message or "ip_sans" in message:
        return "let the role allow IP SANs (allow_ip_sans=true) or drop them"
    if "csr" in message:
        return "the CSR was refused: check the role's key_type and signature_bits"
    return f"fix the role's settings or the request ({README_HINT})"
