"""The workbench: move service-to-service integrations off static API keys onto mTLS.

This package is the pure core (no UI imports). The CLI (``workbench.cli``) and the
notebooks are thin front ends over the names exported here::

    import workbench as wb
    inv = wb.load_inventory("sample_env/inventory.yaml")
    graph = wb.build_graph(inv)
    plan = wb.make_plan(inv, strategy="pilot-first")

Heavy modules (networkx, cryptography) load on first use of a name that needs them, so
``import workbench`` and ``workbench --help`` stay fast. Type checkers and editors read the
``TYPE_CHECKING`` block below, which imports the same names eagerly, so they see real types.
tests/test_exported_members.py keeps ``__all__``, the lazy table and that block in step.
"""

import importlib as _importlib
import typing as _typing

from workbench.errors import InputError, InventoryError, Problem, WorkbenchError
from workbench.inventory.model import (
    Api,
    Finding,
    Integration,
    Inventory,
    Key,
    Location,
    Service,
    Severity,
)
from workbench.states import GatewayMode, StepState, Verdict

if _typing.TYPE_CHECKING:  # the lazy names below, for type checkers and editors
    __version__: str
    from workbench.graph import (
        DependencyGraph,
        analyse,
        build_graph,
        export_graph,
    )
    from workbench.graph.picture import (
        draw_graph,
        save_picture,
    )
    from workbench.inventory import (
        dump_inventory,
        find_findings,
        load_inventory,
        loads_inventory,
        merge_inventories,
    )
    from workbench.inventory.importers import import_report
    from workbench.migration import (
        init_workspace,
        issue_step,
        open_campaign,
        status_report,
    )
    from workbench.migration.gateway_ops import set_step_mode
    from workbench.migration.usage import step_usage
    from workbench.migration.verification import (
        cutover,
        verify_steps,
    )
    from workbench.plan import (
        Plan,
        make_plan,
    )
    from workbench.policy import (
        Policy,
        load_policy,
    )
    from workbench.rehearsal import (
        rehearse,
        sample_inventory_path,
    )
    from workbench.report import (
        CutoverReview,
        ProgramReport,
        cutover_review,
        program_report,
    )
    from workbench.report.charts import program_charts
    from workbench.report.document import (
        markdown_table,
        write_report,
    )
    from workbench.report.review_charts import (
        probe_heatmap,
        timing_chart,
        usage_chart,
    )
    from workbench.verify import (
        Identities,
        Target,
        run_verify,
    )

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

__all__ = [
    "__version__",
    "analyse",
    "Api",
    "build_graph",
    "cutover",
    "cutover_review",
    "CutoverReview",
    "DependencyGraph",
    "draw_graph",
    "dump_inventory",
    "export_graph",
    "find_findings",
    "Finding",
    "GatewayMode",
    "Identities",
    "import_report",
    "init_workspace",
    "InputError",
    "Integration",
    "Inventory",
    "InventoryError",
    "issue_step",
    "Key",
    "load_inventory",
    "load_policy",
    "loads_inventory",
    "Location",
    "make_plan",
    "markdown_table",
    "merge_inventories",
    "open_campaign",
    "Plan",
    "Policy",
    "probe_heatmap",
    "Problem",
    "program_charts",
    "program_report",
    "ProgramReport",
    "rehearse",
    "run_verify",
    "sample_inventory_path",
    "save_picture",
    "Service",
    "set_step_mode",
    "Severity",
    "status_report",
    "step_usage",
    "StepState",
    "Target",
    "timing_chart",
    "usage_chart",
    "Verdict",
    "verify_steps",
    "WorkbenchError",
    "write_report",
]


def _package_version() -> str:
    # The installed distribution's metadata is the one source (pyproject.toml's version); a
    # source tree that was never installed has none, and says so rather than guessing.
    from importlib import metadata

    try:
        return metadata.version("workbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> _typing.Any:
    if name == "__version__":
        value: _typing.Any = _package_version()  # importlib.metadata costs ~80 ms cold: on demand
    else:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'workbench' has no attribute {name!r}")
        value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
