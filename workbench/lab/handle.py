"""The lab behind the one gateway interface the migration layer drives.

:class:`LabGateway` changes a route of the lab's embedded gateway (the Python reference or
nginx, one process per port) the same way an operator's gateway is changed: render,
validate, write + reload + confirm, then ``commit``; on any failure the previous config is
applied again.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.errors import GatewayError
from workbench.gateway.handle import AppliedChange, Commit

__all__ = ["LabGateway", "make_lab_gateway"]


class LabGateway:
    """The workspace's lab as a :class:`~workbench.gateway.handle.GatewayHandle`."""

    kind = "lab"
    id = "lab"

    def __init__(self, campaign: Any) -> None:
        from workbench.lab.workspace import lab_env

        self.campaign = campaign
        self.env = lab_env(campaign)

    def _running(self, api_id: str):
        gw = self.env.gateway_of(api_id)
        if gw is None or not gw.is_running():
            raise GatewayError(
                "no lab gateway is running for this workspace: start it with "
                "`workbench sample-env up`"
            )
        return gw

    def current_mode(self, api_id: str) -> str:
        gw = self.env.gateway_of(api_id)
        if gw is None:
            raise GatewayError(
                "the lab gateway of this workspace has never run: `workbench sample-env up`"
            )
        return gw.spec.route(api_id).mode

    def change_route(
        self, api_id: str, mode: str, key_ids: tuple[str, ...], *, commit: Commit
    ) -> AppliedChange:
        gw = self._running(api_id)
        inv = self.campaign.inventory
        old_spec = gw.spec
        route = old_spec.route(api_id)
        key_files = tuple(str(self.env.key_path(inv.key(k))) for k in key_ids)
        new_route = replace(route, mode=mode, key_files=key_files)
        new_spec = replace(
            old_spec, routes=tuple(new_route if r.api_id == api_id else r for r in old_spec.routes)
        )
        rendered = gw.render(new_spec)
        gw.validate(rendered)
        try:
            gw.spec = new_spec
            gw.apply(rendered)
            commit(rendered.sha256)
        except BaseException:
            gw.spec = old_spec
            gw.apply(gw.render(old_spec))
            raise
        return AppliedChange(api_id, route.mode, mode, rendered.sha256)

    def access_log(self) -> Path:
        gw = self.env.current_gateway()
        if gw is None:
            raise GatewayError(
                "the lab gateway of this workspace has never run: no access log to read "
                "(`workbench sample-env up`)"
            )
        return Path(gw.spec.access_log)

    def push_crls(self) -> None:
        for gw in self.env.gateways().values():
            if gw.is_running():
                rendered = gw.render(gw.spec)
                gw.validate(rendered)
                gw.apply(rendered)

    def token_endpoint(self) -> str:
        status = self.env.status()
        if not status.token_url:
            raise GatewayError("the lab's token server is not running: `workbench sample-env up`")
        return status.token_url

    def token_server_ca(self) -> Path | None:
        return self.campaign.server_ca_file  # the token server serves the gateway's cert

    def token_events_log(self) -> Path | None:
        log = self.env.auth_dir / "events.log"
        return log if log.exists() else None


def make_lab_gateway(campaign: Any, config: Any) -> LabGateway:
    """The factory plugged in as kind ``lab`` (``config``: the inventory entry, if any)."""
    return LabGateway(campaign)
