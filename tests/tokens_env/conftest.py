"""Fixtures for tests/tokens_env; helpers live in tokens_env_support (never `from conftest`)."""

from tokens_env_support import *  # noqa: F403
