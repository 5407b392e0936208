"""Unit tests of the pure parts: VAULT_* parsing, names, serial spelling, usage errors."""

from __future__ import annotations

import pickle

import pytest
from testkit import copy_inventory

from workbench.cli import main
from workbench.errors import PKIError
from workbench.pki.vault import VaultSettings, colon_serial
from workbench.pki.vault.config import check_mount, check_role
from workbench.pki.vault.diagnose import _fix_for_400

TOKEN = "s.unit-test-token-value"  # noqa: S105 (not a real token)


def test_settings_read_like_vaults_cli():
    s = VaultSettings.from_env(
        {
            "VAULT_ADDR": "https://vault.example:8200/",
            "VAULT_TOKEN": TOKEN,
            "VAULT_NAMESPACE": "/team-a/",
            "VAULT_CLIENT_TIMEOUT": "12s",
        }
    )
    assert s.addr == "https://vault.example:8200" and s.namespace == "team-a"
    assert s.timeout == 12 and s.auth_method == "token"
    assert VaultSettings.from_env({}).addr == "https://127.0.0.1:8200"  # Vault's default
    assert VaultSettings.from_env({}, default_addr="http://10.0.0.1:8200").addr.endswith("8200")
    assert VaultSettings.from_env({"VAULT_ADDR": "http://a:1"}, default_addr="http://b:2").addr == (
        "http://a:1"
    )


def test_settings_never_show_or_pickle_the_token():
    s = VaultSettings.from_env({"VAULT_TOKEN": TOKEN, "VAULT_SECRET_ID": "x", "VAULT_ROLE_ID": "y"})
    assert TOKEN not in repr(s) and TOKEN not in str(s) and TOKEN not in str(s.public())
    with pytest.raises(TypeError):
        pickle.dumps(s)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"VAULT_ADDR": "vault:8200"}, "VAULT_ADDR"),
        ({"VAULT_CLIENT_TIMEOUT": "soon"}, "VAULT_CLIENT_TIMEOUT"),
        ({"VAULT_ROLE_ID": "r"}, "VAULT_SECRET_ID"),
        ({"VAULT_SECRET_ID": "s"}, "VAULT_ROLE_ID"),
        ({"VAULT_CACERT": "/nonexistent/ca.pem"}, "VAULT_CACERT"),
    ],
)
def test_bad_settings_are_one_clear_line(env, needle):
    with pytest.raises(PKIError) as err:
        VaultSettings.from_env(env)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_no_credentials_is_a_clear_error():
    with pytest.raises(PKIError, match="VAULT_TOKEN"):
        VaultSettings.from_env({}).require_auth()


@pytest.mark.parametrize("bad", ["", "/", "../pki", "pki/../x", "a b", "pki;rm"])
def test_mount_names_are_checked(bad):
    with pytest.raises(PKIError):
        check_mount(bad)


def test_mount_and_role_names_accepted():
    assert check_mount("/teams/pki/") == "teams/pki"
    assert check_role("workbench-client") == "workbench-client"
    with pytest.raises(PKIError):
        check_role("a/b")


def test_colon_serial_is_vaults_spelling():
    assert colon_serial(0x0A0B) == "0a:0b"
    assert colon_serial(0x1A0B0C) == "1a:0b:0c"


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("unknown role: nosuch", "--vault-role"),
        ("uri subject alternative names were provided ... not valid for this role", "allowed_uri"),
        ("cannot satisfy request, as ttl would result in notafter", "--lifetime"),
        ("role requires keys of type rsa", "key_type"),
    ],
)
def test_400_hints(message, hint):
    assert hint in _fix_for_400(message)


def test_vault_flags_need_issuer_vault(tmp_path, capsys):
    inventory = copy_inventory(tmp_path)
    ws = tmp_path / "ws"
    assert main(["init", str(inventory), "--workspace", str(ws), "--vault-mount", "pki"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["--vault-mount needs --issuer vault"] and not ws.exists()
    argv = ["init", str(inventory), "--workspace", str(ws), "--issuer", "vault"]
    assert main([*argv, "--vault-mount", "pki"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["--issuer vault needs --vault-role"] and not ws.exists()
