"""Requirement 28: secret references cannot aim at the workbench's own secrets or loose files."""

from __future__ import annotations

import json
import os

import pytest

from workbench.errors import InventoryError
from workbench.inventory import Inventory, Key, loads_inventory, validate_inventory
from workbench.secrets import SecretRefError, resolve_secret_ref

CANARY = "trust-ref-canary-0b1c2d3e"
INVENTORY = """\
version: 1
apis:
  - {{id: a, url: "https://127.0.0.1:9/a", data_classes: [pci], owner: t, environment: prod}}
keys:
  - {{id: k, api: a, secret_ref: "{ref}"}}
"""


@pytest.mark.parametrize(
    "name", ["WORKBENCH_CA_PASSPHRASE", "WORKBENCH_P12_PASSWORD", "WORKBENCH_X", "VAULT_TOKEN"]
)
def test_env_refs_to_the_workbench_own_variables_are_refused(name, monkeypatch):
    monkeypatch.setenv(name, CANARY)
    with pytest.raises(InventoryError, match="workbench's own variables") as info:
        loads_inventory(INVENTORY.format(ref=f"env:{name}"), "inv.yaml")
    assert str(info.value).startswith("inv.yaml:5:")
    with pytest.raises(SecretRefError, match="workbench's own variables") as info:
        resolve_secret_ref(f"env:{name}")
    assert CANARY not in str(info.value)
    problems = validate_inventory(Inventory(keys=(Key("k", "a", secret_ref=f"env:{name}"),)))
    assert any("workbench's own" in p.message for p in problems)


def test_an_ordinary_env_ref_still_resolves(monkeypatch):
    monkeypatch.setenv("PAY_KEY", CANARY)
    loads_inventory(INVENTORY.format(ref="env:PAY_KEY"), "inv.yaml")
    assert resolve_secret_ref("env:PAY_KEY").reveal() == CANARY


def _key(path, mode=0o600):
    path.write_text(CANARY + "\n")
    path.chmod(mode)


def test_a_symlinked_directory_on_the_way_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    _key(real / "k.key")
    (tmp_path / "keys").symlink_to(real)
    with pytest.raises(SecretRefError, match="symlink"):
        resolve_secret_ref("file:keys/k.key", tmp_path)
    assert resolve_secret_ref("file:real/k.key", tmp_path).reveal() == CANARY


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "k.key", 0o600)
    with pytest.raises(SecretRefError, match="not a regular file"):
        resolve_secret_ref("file:k.key", tmp_path)


def test_inventory_check_warns_about_unsafe_key_files_before_any_probe(tmp_path, capsys):
    from workbench.cli import main

    keys = tmp_path / "keys"
    keys.mkdir()
    _key(keys / "loose.key", 0o644)
    _key(keys / "good.key")
    (keys / "link.key").symlink_to(keys / "good.key")
    text = INVENTORY.format(ref="file:keys/loose.key").replace("  - {id: k,", "  - {id: k1,")
    for n, name in ((2, "good.key"), (3, "link.key"), (4, "missing.key")):
        text += f'  - {{id: k{n}, api: a, secret_ref: "file:keys/{name}"}}\n'
    inv = tmp_path / "inv.yaml"
    inv.write_text(text)
    assert main(["inventory", "check", str(inv), "--json"]) == 1
    found = {
        f["subject"]: f["message"]
        for f in json.loads(capsys.readouterr().out)["findings"]
        if f["code"] == "secret-file-unsafe"
    }
    assert set(found) == {"k1", "k3"}
    assert "mode 0644" in found["k1"] and "chmod 600" in found["k1"]
    assert "symlink" in found["k3"]
    assert CANARY not in json.dumps(found)
