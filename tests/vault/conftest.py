"""Fixtures for tests/vault: one OpenBao dev server per module, set up as an admin would."""

from __future__ import annotations

import pytest
from vault_support import OpenBao


@pytest.fixture(scope="module")
def openbao(tmp_path_factory):
    server = OpenBao(tmp_path_factory.mktemp("openbao"))
    try:
        server.root_pem = server.setup_pki("pki")
        server.token = server.workbench_token("pki")
        yield server
    finally:
        server.stop()


@pytest.fixture
def vault_env(openbao, monkeypatch):
    """VAULT_ADDR + a minimal-policy VAULT_TOKEN; no CA passphrase anywhere."""
    for name in ("VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("WORKBENCH_CA_PASSPHRASE", raising=False)
    monkeypatch.setenv("VAULT_ADDR", openbao.addr)
    monkeypatch.setenv("VAULT_TOKEN", openbao.token)
    return openbao
