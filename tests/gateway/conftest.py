"""Fixtures for tests/gateway; helpers live in gateway_support (unique name: no `from conftest`)."""

from gateway_support import *  # noqa: F403
