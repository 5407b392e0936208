"""Fixtures for tests/render; helpers live in render_support (unique name: no `from conftest`)."""

from render_support import *  # noqa: F403
