"""The trust tests' workspace: built once per test module, copied for each test to tamper with."""

from __future__ import annotations

import pytest
from trust_support import build_workspace, copy_workspace


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return build_workspace(tmp_path_factory.mktemp("trust"))


@pytest.fixture
def ws(pristine, tmp_path):
    return copy_workspace(pristine, tmp_path / "ws")
