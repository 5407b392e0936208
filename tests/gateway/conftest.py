"""Fixtures for tests/gateway; helpers live in gateway_support (no `from conftest`)."""

from gateway_support import *  # noqa: F403
