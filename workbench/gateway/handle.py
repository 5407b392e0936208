"""The one interface the migration layer drives every gateway through.

A :class:`GatewayHandle` fronts some APIs. The migration layer decides, per API, the mode and
the key ids the route still accepts; the handle turns that into its own config and applies it
all-or-nothing: render, write the owned file (keeping the previous one), validate, reload,
confirm the running gateway serves it, then call ``commit(sha256)`` (the audit). If any of
that fails, the previous file is restored and reloaded and the error propagates.

Kinds: ``nginx`` and ``haproxy`` (an operator's running gateway, :mod:`.operator`), ``manual``
(the operator applies the change by hand, :mod:`.manual`), and ``lab`` (the rehearsal
environment, plugged in from above the core by :func:`register_kind`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from workbench.errors import GatewayError

__all__ = [
    "KINDS",
    "AppliedChange",
    "Commit",
    "GatewayFactory",
    "GatewayHandle",
    "ManualApplication",
    "register_kind",
    "registered_kinds",
]

KINDS = ("lab", "nginx", "haproxy", "manual")
Commit = Callable[[str], None]
"""``commit(config_sha256)``: record the change (audit); raising undoes the change."""


@dataclass(frozen=True)
class AppliedChange:
    """What a handle did for one route change."""

    api: str
    from_mode: str
    to_mode: str
    config_sha256: str
    """SHA-256 of the config now in force (the owned file, or the rendered instructions)."""
    instructions: tuple[str, ...] = ()
    """For a ``manual`` gateway: what the operator must do (files, commands, checks)."""


class ManualApplication(GatewayError):
    """A manual gateway cannot apply a change itself: the operator must, then record it."""


class GatewayHandle(Protocol):
    """What the migration layer needs from a gateway (any kind)."""

    kind: str
    """``lab``, ``nginx``, ``haproxy`` or ``manual``."""
    id: str
    """The gateway id (``lab`` for the built-in sample)."""

    def current_mode(self, api_id: str) -> str:
        """The mode the gateway serves ``api_id`` in now."""
        ...

    def change_route(
        self, api_id: str, mode: str, key_ids: tuple[str, ...], *, commit: Commit
    ) -> AppliedChange:
        """Put ``api_id`` in ``mode`` accepting ``key_ids``; all-or-nothing (see module doc)."""
        ...

    def access_log(self) -> Path:
        """The access log in the workbench's JSON Lines format (see :mod:`.usage`)."""
        ...

    def push_crls(self) -> None:
        """Re-read the CRL file: write (if copied) + validate + reload; unchanged on failure."""
        ...

    def token_endpoint(self) -> str:
        """The token endpoint of the authorization server in front of this gateway."""
        ...

    def token_server_ca(self) -> Path | None:
        """The CA bundle for the token endpoint's TLS certificate (None: the system's CAs)."""
        ...

    def token_events_log(self) -> Path | None:
        """The authorization server's event log (token fingerprints, never tokens)."""
        ...


GatewayFactory = Callable[[Any, Any], GatewayHandle]
"""``factory(campaign, gateway_config)`` (config None for the default ``lab``)."""

_REGISTRY: dict[str, GatewayFactory] = {}


def register_kind(kind: str, factory: GatewayFactory) -> None:
    """Plug a gateway kind in (the lab does this from above the core)."""
    if kind not in KINDS:
        raise GatewayError(f"unknown gateway kind {kind!r}: use one of {', '.join(KINDS)}")
    _REGISTRY[kind] = factory


def _core_factory(kind: str) -> GatewayFactory:
    def make(campaign: Any, config: Any) -> GatewayHandle:
        if kind == "manual":
            from workbench.gateway.manual import ManualGateway

            return ManualGateway(campaign, config)
        from workbench.gateway.operator import OperatorGateway

        return OperatorGateway(campaign, config)

    return make


def registered_kinds() -> Mapping[str, GatewayFactory]:
    """The core kinds plus whatever was plugged in (a copy: a campaign keeps its own)."""
    out: dict[str, GatewayFactory] = {k: _core_factory(k) for k in ("nginx", "haproxy", "manual")}
    out.update(_REGISTRY)
    return out
