"""Simulated consumers of the sample environment: call an API as a service would.

Used by the demo (and handy in notebooks) to produce realistic gateway traffic during the
overlap window: first with the old static key, then with the service's new certificate.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx

from workbench.secrets import SecretValue


@dataclass(frozen=True)
class Call:
    """One simulated request."""

    service: str
    credential: str
    """``key`` or ``cert``."""
    status: int | None
    """HTTP status, or None when the connection or handshake failed."""
    error: str | None = None


def _context(ca: Path, chain: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    if chain is not None and key is not None:
        ctx.load_cert_chain(str(chain), str(key))
    return ctx


def _get(url: str, ctx: ssl.SSLContext, headers: dict[str, str]) -> tuple[int | None, str | None]:
    try:
        with httpx.Client(verify=ctx, timeout=5.0, follow_redirects=False) as client:
            return client.get(url, headers=headers).status_code, None
    except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
        return None, type(exc).__name__


def call_with_key(url: str, header: str, secret: SecretValue, ca: Path, service: str) -> Call:
    """The service calls with the static key (the value is only sent, never kept)."""
    status, error = _get(
        url, _context(ca), {header: secret.reveal(), "User-Agent": f"{service}/1.0"}
    )
    return Call(service, "key", status, error)


def call_with_cert(
    url: str, chain: Path, key: Path, ca: Path, service: str, bearer: SecretValue | None = None
) -> Call:
    """The service calls with its client certificate (no key), plus a bound access token
    when ``bearer`` is given."""
    headers = {"User-Agent": f"{service}/2.0-mtls"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer.reveal()}"
    status, error = _get(url, _context(ca, chain, key), headers)
    return Call(service, "cert+token" if bearer else "cert", status, error)
