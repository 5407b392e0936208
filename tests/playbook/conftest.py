"""Fixtures for tests/playbook; helpers live in playbook_support (unique name: no `from conftest`)."""

from playbook_support import *  # noqa: F403
