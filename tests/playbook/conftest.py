"""Fixtures for tests/playbook; helpers live in playbook_support (no `from conftest`)."""

from playbook_support import *  # noqa: F403
