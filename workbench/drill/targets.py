"""Where a drill probes: every entry point of an API and every address its host resolves to.

An entry point is the API's ``url`` plus any other base URL the inventory declares for it
(``endpoints``); each is probed at the API's health path, on every address its host name
resolves to (a host with two addresses is two gateways as far as a credential is concerned).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import VerifyError

__all__ = ["EntryAddress", "Resolver", "api_entry_addresses", "entry_urls", "system_resolver"]

Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> [address, ...]``; raises OSError when the name does not resolve."""


@dataclass(frozen=True)
class EntryAddress:
    """One place to probe: an entry point of an API, pinned to one of its addresses."""

    api: str
    """API id."""
    entry_point: str
    """The entry point's URL (base URL plus health path), as reports name it."""
    host: str
    """Host name: SNI (unless an IP literal) and Host header."""
    port: int
    address: str
    """The resolved address connected to."""
    path: str
    """Request target."""

    @property
    def label(self) -> str:
        """``URL @ address`` (the address only when it differs from the host)."""
        if self.address == self.host.strip("[]"):
            return self.entry_point
        return f"{self.entry_point} @ {self.address}"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def _health_url(base: str, health_path: str | None) -> str:
    if not health_path:
        return base
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + "/" + health_path.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def entry_urls(api) -> list[str]:
    """The API's entry points (``url`` then ``endpoints``), each at its health path."""
    bases = [api.url, *getattr(api, "endpoints", ())]
    return list(dict.fromkeys(_health_url(b, api.health_path) for b in bases))


def api_entry_addresses(
    apis: Iterable, *, resolver: Resolver = system_resolver
) -> list[EntryAddress]:
    """Every (entry point, address) of ``apis``; a name that does not resolve is an error
    naming it (a drill that cannot reach an entry point proves nothing there)."""
    out: list[EntryAddress] = []
    for api in apis:
        for url in entry_urls(api):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise VerifyError(f"API {api.id}: entry point {url} is not https://HOST[:PORT]/")
            try:
                port = parts.port or 443
            except ValueError:
                raise VerifyError(f"API {api.id}: entry point {url} has a bad port") from None
            try:
                addresses = resolver(parts.hostname, port)
            except OSError as exc:
                raise VerifyError(
                    f"API {api.id}: cannot resolve {parts.hostname} ({exc.strerror or exc})"
                ) from None
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            for address in addresses:
                out.append(EntryAddress(api.id, url, parts.hostname, port, address, path))
    return out
