"""Revocation as a control: drills that prove a compromised credential dies everywhere.

- :func:`revoke_drill` (``workbench drill revoke``): revoke a service's certificates, push
  the CRLs to every gateway in front of its APIs, probe until refused at every entry point;
- :func:`canary_drill` (``workbench drill canary``): the same with a throwaway identity,
  safe on a schedule;
- :func:`kill_key` (``workbench drill kill-key``): retire a step's static key at once;
- :func:`crl_status` (``workbench status``): the CRL each gateway serves, and warnings.

Results are stored with :func:`record_drill` in the ``drills`` and ``drill_gateways``
tables (their columns are documented in :mod:`workbench.drill.store`); a program report
reads the median and worst time-to-refusal per gateway with :func:`drill_figures`.
Core only: no UI imports, no lab imports (the gateways are reached through
:mod:`workbench.drill.gateways`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DrillReport",
    "canary_drill",
    "crl_status",
    "drill_figures",
    "get_drill",
    "kill_key",
    "list_drills",
    "record_drill",
    "revoke_drill",
]

_LAZY = {
    "DrillReport": "workbench.drill.runner",
    "canary_drill": "workbench.drill.canary",
    "crl_status": "workbench.drill.status",
    "drill_figures": "workbench.drill.store",
    "get_drill": "workbench.drill.store",
    "kill_key": "workbench.drill.killkey",
    "list_drills": "workbench.drill.store",
    "record_drill": "workbench.drill.store",
    "revoke_drill": "workbench.drill.revoke",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
