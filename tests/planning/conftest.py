"""Fixtures for tests/planning; helpers live in planning_support (no `from conftest`)."""

from planning_support import *  # noqa: F403
