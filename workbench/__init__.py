"""The workbench: move service-to-service integrations off static API keys onto mTLS.

This package is the pure core (no UI imports). The CLI (``workbench.cli``), the Textual app
(``workbench.tui``) and the notebooks are thin front ends over the names exported here.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
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
]
