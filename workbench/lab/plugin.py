"""Plug the lab into the core's gateway kinds (cheap: the lab loads when first used)."""

from __future__ import annotations

from typing import Any

from workbench.gateway.handle import register_kind

__all__ = ["plug_in"]


def _lab(campaign: Any, config: Any):
    from workbench.lab.handle import make_lab_gateway

    return make_lab_gateway(campaign, config)


def plug_in() -> None:
    """Register kind ``lab`` (the front ends call this once at start)."""
    register_kind("lab", _lab)
