"""Inventory: domain model, loaders, validation and importers."""

from workbench.inventory.dump import (
    check_output_target,
    dump_inventory,
    inventory_to_dict,
    write_text_atomic,
)
from workbench.inventory.findings import UNASSIGNED_API_ID, find_findings, has_failing_findings
from workbench.inventory.ids import SAFE_ID_PATTERN, is_safe_id
from workbench.inventory.loader import load_inventory, loads_inventory
from workbench.inventory.merge import merge_inventories
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
from workbench.inventory.validate import DEFAULT_DATA_CLASSES, validate_inventory

__all__ = [
    "check_output_target",
    "DEFAULT_DATA_CLASSES",
    "SAFE_ID_PATTERN",
    "UNASSIGNED_API_ID",
    "Api",
    "Finding",
    "Integration",
    "Inventory",
    "Key",
    "Location",
    "Service",
    "Severity",
    "dump_inventory",
    "find_findings",
    "has_failing_findings",
    "inventory_to_dict",
    "is_safe_id",
    "load_inventory",
    "loads_inventory",
    "merge_inventories",
    "validate_inventory",
    "write_text_atomic",
]
