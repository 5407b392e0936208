"""Where the probes connect: every address of every entry point, each pinned (req. 14, 17).

A host with an A and an AAAA record is two gateways as far as the key is concerned: both are
probed. ``--connect-to HOST:PORT:ADDR`` (curl's ``--resolve`` shape, repeatable) pins a name
to addresses without DNS, so real host names can be verified against chosen replicas.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from workbench.errors import VerifyError

__all__ = ["ConnectTo", "Resolver", "is_ip_literal", "parse_connect_to", "resolve_all"]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``async (host, port) -> [address, ...]``; raises OSError when the name does not resolve."""


@dataclass(frozen=True)
class ConnectTo:
    """A name pinned to an address (``HOST:PORT:ADDR``)."""

    host: str
    port: int
    address: str


def is_ip_literal(host: str) -> bool:
    """True for an IPv4/IPv6 address literal (no resolution, no SNI)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_connect_to(text: str) -> ConnectTo:
    """``HOST:PORT:ADDR`` (ADDR may be a bracketed IPv6 literal) -> :class:`ConnectTo`."""
    host, sep1, rest = text.partition(":")
    port_text, sep2, addr = rest.partition(":")
    addr = addr.strip("[]")
    problem = None
    if not (sep1 and sep2 and host and addr):
        problem = "use HOST:PORT:ADDR, e.g. api.example.com:443:10.0.0.7"
    elif not port_text.isdigit() or not 0 < int(port_text) < 65536:
        problem = "PORT must be a number 1-65535"
    elif not is_ip_literal(addr):
        problem = "ADDR must be an IPv4 or IPv6 address"
    if problem:
        raise VerifyError(f"--connect-to {text!r}: {problem}")
    return ConnectTo(host.lower(), int(port_text), str(ipaddress.ip_address(addr)))


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve_all(
    host: str,
    port: int,
    connect_to: Sequence[ConnectTo] = (),
    resolver: Resolver | None = None,
) -> list[str] | OSError:
    """Every distinct address of ``host:port`` (pinned ones when given), in resolver order;
    the OSError itself when the name does not resolve."""
    pinned = [c.address for c in connect_to if c.host == host.lower() and c.port == port]
    if pinned:
        return list(dict.fromkeys(pinned))
    if is_ip_literal(host):
        return [host.strip("[]")]
    try:
        found = await (resolver or system_resolver)(host, port)
    except OSError as exc:
        return exc
    return list(dict.fromkeys(found)) or OSError(f"{host} has no address")
