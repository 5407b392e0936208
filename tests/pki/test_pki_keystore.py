"""Req. 9 and 24: private keys 0600 in 0700 directories whatever the umask, symlinks
refused, writes atomic (temp file + rename, nothing left behind)."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from workbench.errors import PKIError, UnsafePathError
from workbench.pki import (
    SecureDirectory,
    fsync_paths,
    generate_private_key,
    write_private_key,
    write_public_file,
    write_secret_file,
)


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask0():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_private_key_modes_under_umask_0(tmp_path, umask0):
    key = generate_private_key()
    path = write_private_key(
        tmp_path / "ws" / "keys" / "billing" / "client.key", key, base=tmp_path / "ws"
    )
    assert mode(path) == 0o600
    assert mode(tmp_path / "ws" / "keys" / "billing") == 0o700
    assert mode(tmp_path / "ws" / "keys") == 0o700  # created by us, so private too
    loaded = load_pem_private_key(path.read_bytes(), None)
    assert loaded.public_key() == key.public_key()
    cert = write_public_file(
        tmp_path / "ws" / "certs" / "billing.crt", b"cert\n", base=tmp_path / "ws"
    )
    assert mode(cert) == 0o644 and mode(tmp_path / "ws" / "certs") == 0o755
    assert sorted(p.name for p in (tmp_path / "ws" / "keys" / "billing").iterdir()) == [
        "client.key"
    ]


def test_existing_loose_directory_is_tightened(tmp_path, umask0):
    loose = tmp_path / "keys"
    loose.mkdir(mode=0o777)
    write_secret_file(loose / "secret.bin", b"s")
    assert mode(loose) == 0o700 and mode(loose / "secret.bin") == 0o600


def test_encrypted_private_key(tmp_path):
    key = generate_private_key("ed25519")
    path = write_private_key(tmp_path / "k" / "client.key", key, password=b"pw-123456")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert load_pem_private_key(path.read_bytes(), b"pw-123456").public_key() == key.public_key()


def test_symlink_at_key_path_is_refused(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "client.key").symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symlink"):
        write_private_key(keys / "client.key", generate_private_key())
    assert victim.read_text() == "keep me"
    assert (keys / "client.key").is_symlink()
    assert [p.name for p in keys.iterdir()] == ["client.key"]  # no temp file left behind


def test_dangling_symlink_at_key_path_is_refused(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "client.key").symlink_to(tmp_path / "would-be-created")
    with pytest.raises(UnsafePathError):
        write_secret_file(keys / "client.key", b"secret")
    assert not (tmp_path / "would-be-created").exists()


def test_symlinked_parent_inside_base_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ws = tmp_path / "ws"
    (ws / "keys").mkdir(parents=True)
    (ws / "keys" / "billing").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="symlink"):
        write_secret_file(ws / "keys" / "billing" / "client.key", b"secret", base=ws)
    assert list(elsewhere.iterdir()) == []


def test_paths_leaving_base_are_refused(tmp_path):
    ws = tmp_path / "ws"
    with pytest.raises(UnsafePathError, match="outside"):
        write_secret_file(ws / ".." / "escape.key", b"x", base=ws)
    with pytest.raises(UnsafePathError, match="outside"):
        write_secret_file("/etc/escape.key", b"x", base=ws)
    with SecureDirectory.open(ws / "keys", base=ws) as d:
        for bad in ("../x", "a/b", "", "..", "x\x00y"):
            with pytest.raises(UnsafePathError):
                d.write(bad, b"x")


def test_replace_is_atomic_and_can_be_refused(tmp_path):
    path = write_secret_file(tmp_path / "d" / "f", b"old")
    write_secret_file(path, b"new", durable=True)
    assert path.read_bytes() == b"new"
    with pytest.raises(PKIError, match="already exists"):
        write_secret_file(path, b"newer", replace=False)
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["f"]


def test_secure_directory_batches_and_fsync_paths(tmp_path, umask0):
    with SecureDirectory.open(tmp_path / "ws" / "keys" / "svc", base=tmp_path / "ws") as d:
        k = d.write_private_key("client.key", generate_private_key())
        c = d.write("client.crt", b"cert", mode=0o644)
        d.fsync()
    assert (mode(k), mode(c), mode(k.parent)) == (0o600, 0o644, 0o700)
    fsync_paths([k, c])
