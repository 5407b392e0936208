"""Fixtures for the verifier tests: a throwaway PKI and real servers on 127.0.0.1.

Helpers live in verify_pki.py and verify_servers.py (also used by bench/verify_rate.py).
Tests import from those uniquely named modules, never ``from conftest``: several
directories have a conftest.py and only one of them can be ``sys.modules["conftest"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testkit import free_port
from verify_pki import Pki, build_pki
from verify_servers import start_server


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return build_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def serve(pki: Pki) -> Iterator:
    """``serve(mode, tls_max=None, slow_seconds=3)`` starts a server; all stop at teardown."""
    stops = []

    def start(mode: str, *, tls_max: str | None = None, slow_seconds: float = 3.0, **kw):
        running, stop = start_server(pki, mode, tls_max=tls_max, slow_seconds=slow_seconds, **kw)
        stops.append(stop)
        return running

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (reserved for this process, never bound)."""
    return free_port()
