"""Helpers for the workspace + sample environment tests (imported by name, not conftest)."""

from __future__ import annotations

from testkit import (  # noqa: F401 - re-exported for the tests of this area
    ROOT,
    SAMPLE,
    copy_inventory,
    ensure_gateway_available,
    free_port,
    gateway_param,
    nginx_available,
    pid_alive,
)

PASSPHRASE = "test-passphrase-not-secret"
