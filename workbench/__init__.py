"""The workbench: move service-to-service integrations off static API keys onto mTLS.

This package is the pure core (no UI imports). The CLI (``workbench.cli``) and the
notebooks are thin front ends over the names exported here::

    import workbench as wb
    inv = wb.load_inventory("sample_env/inventory.yaml")
    graph = wb.build_graph(inv)
    plan = wb.make_plan(inv, strategy="pilot-first")

Heavy modules (networkx, cryptography) load on first use of a name that needs them, so
``import workbench`` and ``workbench --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

# Re-exported (``__all__`` is computed below, which linters cannot follow).
from workbench.errors import InputError, InventoryError, Problem, WorkbenchError  # noqa: F401
from workbench.inventory.model import (  # noqa: F401
    Api,
    Finding,
    Integration,
    Inventory,
    Key,
    Location,
    Service,
    Severity,
)

__version__ = "0.1.0"

# name -> module that defines it (imported on first access)
_LAZY = {
    "load_inventory": "workbench.inventory",
    "loads_inventory": "workbench.inventory",
    "find_findings": "workbench.inventory",
    "merge_inventories": "workbench.inventory",
    "dump_inventory": "workbench.inventory",
    "import_report": "workbench.inventory.importers",
    "build_graph": "workbench.graph",
    "analyse": "workbench.graph",
    "export_graph": "workbench.graph",
    "DependencyGraph": "workbench.graph",
    "load_policy": "workbench.policy",
    "Policy": "workbench.policy",
    "make_plan": "workbench.plan",
    "Plan": "workbench.plan",
    "init_workspace": "workbench.migration",
    "open_campaign": "workbench.migration",
    "issue_step": "workbench.migration",
    "status_report": "workbench.migration",
    "verify_steps": "workbench.migration.verification",
    "cutover": "workbench.migration.verification",
    "set_step_mode": "workbench.migration.gateway_ops",
    "step_usage": "workbench.migration.usage",
    "run_verify": "workbench.verify",
    "Target": "workbench.verify",
    "Identities": "workbench.verify",
    "draw_graph": "workbench.graph.picture",
    "save_picture": "workbench.graph.picture",
    "sample_inventory_path": "workbench.rehearsal",
    "rehearse": "workbench.rehearsal",
    "program_report": "workbench.report",
    "ProgramReport": "workbench.report",
    "program_charts": "workbench.report.charts",
    "write_report": "workbench.report.document",
    "markdown_table": "workbench.report.document",
    "cutover_review": "workbench.report",
    "CutoverReview": "workbench.report",
    "probe_heatmap": "workbench.report.review_charts",
    "timing_chart": "workbench.report.review_charts",
    "usage_chart": "workbench.report.review_charts",
}

__all__ = sorted(
    [
        "Api",
        "Finding",
        "InputError",
        "Integration",
        "Inventory",
        "InventoryError",
        "Key",
        "Location",
        "Problem",
        "Service",
        "Severity",
        "WorkbenchError",
        "__version__",
        *_LAZY,
    ],
    key=str.lower,
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
