"""Importers: scanner reports and CSV sheets into an ``Inventory`` to merge.

``import_report(kind, path, base=None)`` reads a file; the ``import_*`` functions take text.
Secret values in reports are hashed in memory and never kept (req. 11).
"""

from __future__ import annotations

import os

from workbench.inventory.importers._common import PLACEHOLDER_API, read_report
from workbench.inventory.importers.csv_import import CSV_COLUMNS, import_csv
from workbench.inventory.importers.detect_secrets import import_detect_secrets
from workbench.inventory.importers.gitleaks import import_gitleaks
from workbench.inventory.importers.trufflehog import import_trufflehog
from workbench.inventory.model import Inventory
from workbench.inventory.yamlsafe import gc_paused

__all__ = [
    "CSV_COLUMNS",
    "PLACEHOLDER_API",
    "REPORT_KINDS",
    "import_csv",
    "import_detect_secrets",
    "import_gitleaks",
    "import_report",
    "import_trufflehog",
]

REPORT_KINDS = ("csv", "gitleaks", "trufflehog", "detect-secrets")
"""Names accepted by ``import_report`` (and ``workbench import``)."""


def import_report(
    kind: str, path: str | os.PathLike[str], *, base: Inventory | None = None
) -> Inventory:
    """Read ``path`` as a ``kind`` report; the result is ready for ``merge_inventories``."""
    text, name = read_report(path)
    with gc_paused():
        if kind == "csv":
            return import_csv(text, name, base=base)
        if kind == "gitleaks":
            return import_gitleaks(text, name)
        if kind == "trufflehog":
            return import_trufflehog(text, name)
        if kind == "detect-secrets":
            return import_detect_secrets(text, name)
    raise ValueError(f"unknown report kind {kind!r}; use one of {', '.join(REPORT_KINDS)}")
