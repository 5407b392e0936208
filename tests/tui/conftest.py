"""Fixtures for tests/tui; the helpers live in tui_support."""

from tui_support import *  # noqa: F403
