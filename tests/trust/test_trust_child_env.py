"""Requirement 29: processes the workbench starts never inherit its secrets or old keys.

The real sample environment is started (python gateway, backend, token server; then nginx,
whose validate command ``nginx -t`` and master run through a PATH wrapper that records the
environment it was given) with the CA passphrase, the PKCS#12 password, a Vault token and
an old key's variable (named by a loaded inventory) set. Every child's environment, read from
``/proc/<pid>/environ``, holds none of them, and does hold a harmless variable (so the read
is not empty by accident).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from testkit import copy_inventory, free_port, nginx_available

from workbench.inventory import load_inventory, loads_inventory
from workbench.secrets import child_environ

PASSPHRASE = "child-env-passphrase-canary"
SECRETS = {
    "WORKBENCH_CA_PASSPHRASE": PASSPHRASE,
    "WORKBENCH_P12_PASSWORD": "p12-canary-9d1c",
    "VAULT_TOKEN": "vault-canary-77af",
    "VAULT_SECRET_ID": "vault-secret-canary-1b2c",
    "TRUST_OLD_KEY": "old-key-canary-5e6f",
}
OLD_KEY_INVENTORY = """\
version: 1
apis:
  - {id: a, url: "https://127.0.0.1:9/a", data_classes: [pci], owner: t, environment: prod}
keys:
  - {id: k, api: a, secret_ref: "env:TRUST_OLD_KEY"}
"""


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def _assert_clean(env: dict[str, str], what: str) -> None:
    assert env.get("TRUST_HARMLESS") == "kept", f"{what}: environment not read"
    leaked = sorted(k for k in SECRETS if k in env)
    assert not leaked, f"{what} inherited {leaked}"
    values = "\0".join(env.values())
    assert not any(v in values for v in SECRETS.values()), f"{what} holds a secret value"


@pytest.fixture
def world(tmp_path, monkeypatch):
    from workbench.cli import main
    from workbench.migration import issue_gateway_certificate, open_campaign, publish_crls

    for k, v in {**SECRETS, "TRUST_HARMLESS": "kept"}.items():
        monkeypatch.setenv(k, v)
    loads_inventory(OLD_KEY_INVENTORY, "old.yaml")  # names TRUST_OLD_KEY as an old key
    port = free_port()
    inv = copy_inventory(tmp_path, port)
    ws = tmp_path / "ws"
    assert main(["init", str(inv), "--workspace", str(ws)]) == 0
    with open_campaign(ws, passphrase=lambda: PASSPHRASE) as c:
        server = issue_gateway_certificate(c)
        publish_crls(c)
    certs = (ws / server.chain_path, ws / server.key_path, ws / "ca" / "chain.pem")
    return tmp_path, inv, port, certs


def test_python_gateway_backend_and_token_server_get_a_clean_environment(world):
    from workbench.lab import SampleEnv

    tmp, inv, port, (chain, key, ca) = world
    env = SampleEnv(load_inventory(inv), tmp / "state", gateway="python", port=port)
    status = env.up(chain, key, ca, token_server=True)
    try:
        pids = {
            "gateway": status.gateway_pid,
            "backend": status.backend_pid,
            "token server": status.auth_server_pid,
        }
        assert all(pids.values()), pids
        for what, pid in pids.items():
            _assert_clean(_environ(pid), what)
    finally:
        env.down()


def test_nginx_validate_and_master_get_a_clean_environment(world, tmp_path, monkeypatch):
    from workbench.lab import SampleEnv

    if not nginx_available():
        pytest.fail("nginx is not installed: apt-get install -y nginx-light")
    real = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    script = wrappers / "nginx"
    # nginx rewrites its own environ area for its process titles: record what it was given
    script.write_text(f'#!/bin/sh\ncat /proc/$$/environ > "{dumps}/env.$$"\nexec {real} "$@"\n')
    script.chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{wrappers}:{os.environ['PATH']}")
    tmp, inv, port, (chain, key, ca) = world
    env = SampleEnv(load_inventory(inv), tmp / "state-nginx", gateway="nginx", port=port)
    status = env.up(chain, key, ca)
    try:
        assert status.gateway_pid
    finally:
        env.down()
    recorded = sorted(dumps.iterdir())
    assert len(recorded) >= 2  # at least `nginx -t` and the master
    for path in recorded:
        raw = path.read_bytes().decode()
        _assert_clean(dict(i.split("=", 1) for i in raw.split("\0") if "=" in i), path.name)


def test_child_environ_drops_every_workbench_variable_and_refuses_to_add_one():
    base = {"PATH": "/bin", "WORKBENCH_ANYTHING": "x", "VAULT_TOKEN": "t", "K": "v"}
    assert child_environ(base=base, drop=["K"]) == {"PATH": "/bin"}
    assert child_environ({"TZ": "UTC"}, base=base)["TZ"] == "UTC"
    with pytest.raises(ValueError, match="WORKBENCH_CA_PASSPHRASE"):
        child_environ({"WORKBENCH_CA_PASSPHRASE": "x"}, base=base)
