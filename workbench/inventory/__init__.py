"""Inventory: domain model, loaders, validation and importers."""

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

__all__ = ["Api", "Finding", "Integration", "Inventory", "Key", "Location", "Service", "Severity"]
