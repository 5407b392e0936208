"""Test tiers: ``integration`` marks every test that starts a process, a real server (nginx,
HAProxy, the reference gateway, the lab, OpenBao), drives the TUI or runs a notebook kernel.

``make check`` runs the rest (``pytest -m "not integration"``), the fast inner loop; ``make
test`` runs everything and is what CI runs. The mark is applied here, by directory, by file,
by fixture or by another mark, so a new test in an integration area is integration without
anyone remembering to say so; a test can also say ``@pytest.mark.integration`` itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tiers import TESTS_ROOT, integration_reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relpath = Path(item.path).resolve().relative_to(TESTS_ROOT).as_posix()
        marks = {m.name for m in item.iter_markers()}
        function = getattr(item, "originalname", item.name)
        if integration_reason(relpath, function, getattr(item, "fixturenames", ()), marks):
            item.add_marker(pytest.mark.integration)
