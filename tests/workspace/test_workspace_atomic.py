"""Atomic writes (req. 24): modes whatever the umask, no symlink following, no torn file
after SIGKILL at any point, and batched durability."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from workbench.errors import UnsafePathError
from workbench.workspace.atomic import DurableBatch, atomic_write, remove_stale_temps

WRITER = r"""
import hashlib, json, sys
from workbench.workspace.atomic import atomic_write
path, durable = sys.argv[1], sys.argv[2] == "1"
i = 0
while True:
    i += 1
    body = ("%08d" % i) * 16384  # 128 KiB: a torn write would be easy to catch
    doc = {"version": i, "body": body, "sha": hashlib.sha256(body.encode()).hexdigest()}
    atomic_write(path, json.dumps(doc).encode(), durable=durable)
"""


def _read_complete(path):
    doc = json.loads(path.read_bytes())
    import hashlib

    assert hashlib.sha256(doc["body"].encode()).hexdigest() == doc["sha"]
    return doc["version"]


@pytest.mark.parametrize("durable", [False, True])
def test_sigkill_while_rewriting_never_leaves_a_torn_file(tmp_path, durable):
    target = tmp_path / "state.json"
    atomic_write(target, json.dumps({"version": 0, "body": "", "sha": _sha("")}).encode())
    rounds = 4 if durable else 8
    for _round in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), "1" if durable else "0"]
        )
        try:
            deadline = time.monotonic() + 20
            # Wait until the child has replaced the file at least once more, then kill it
            # at whatever point of its next write it happens to be.
            while _read_complete(target) < 1 + _round % 4:
                assert time.monotonic() < deadline, "writer made no progress"
                assert child.poll() is None, "writer died"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL
        version = _read_complete(target)  # parses and checks: one complete version
        assert version >= 1
        target.write_bytes(json.dumps({"version": 0, "body": "", "sha": _sha("")}).encode())
    # leftovers are temp files only, and the cleaner removes them
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "state.json"]
    assert all(n.startswith(".state.json.") and n.endswith(".tmp") for n in leftovers)
    remove_stale_temps(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def _sha(s):
    import hashlib

    return hashlib.sha256(s.encode()).hexdigest()


def test_modes_are_exact_under_umask_000(tmp_path):
    old = os.umask(0)
    try:
        key = atomic_write(tmp_path / "a.key", b"k", mode=0o600)
        pub = atomic_write(tmp_path / "a.crt", b"c")
        with DurableBatch() as batch:
            batch.write(tmp_path / "b.key", b"k", mode=0o600)
    finally:
        os.umask(old)
    assert key.stat().st_mode & 0o777 == 0o600
    assert pub.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.key").stat().st_mode & 0o777 == 0o600


def test_replaces_content_and_mode(tmp_path):
    p = tmp_path / "f"
    atomic_write(p, b"one", mode=0o644)
    atomic_write(p, b"two", mode=0o600, durable=False)
    assert p.read_bytes() == b"two"
    assert p.stat().st_mode & 0o777 == 0o600


def test_symlink_at_target_is_refused_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "a.key"
    link.symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symlink"):
        atomic_write(link, b"secret", mode=0o600)
    with pytest.raises(UnsafePathError), DurableBatch() as batch:
        batch.write(link, b"secret")
    assert victim.read_bytes() == b"precious"
    assert link.is_symlink()


def test_batch_places_files_only_at_exit_and_aborts_cleanly(tmp_path):
    with DurableBatch() as batch:
        for i in range(50):
            batch.write(tmp_path / f"f{i}", b"x%d" % i)
        assert not (tmp_path / "f0").exists()  # staged as temp files until exit
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"f{i}" for i in range(50))
    assert (tmp_path / "f7").read_bytes() == b"x7"
    assert len(batch.written) == 50

    with pytest.raises(RuntimeError), DurableBatch() as batch:
        batch.write(tmp_path / "new", b"n")
        batch.write(tmp_path / "f1", b"changed")
        raise RuntimeError("issuer failed")
    assert not (tmp_path / "new").exists()
    assert (tmp_path / "f1").read_bytes() == b"x1"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_batch_of_2000_files_flushes_twice_not_per_file(tmp_path, monkeypatch):
    # 2,000 durable atomic_write calls cost ~14 s here (~7 ms of fsync each); the batch
    # flushes the file system twice (data before names, then the names). Counted, not timed:
    # bench/issue_rate.py measures the speed.
    import workbench.fsio as fsio

    flushes, fsyncs = [], []
    real_sync, real_fsync = fsio.sync_filesystem, os.fsync
    monkeypatch.setattr(fsio, "sync_filesystem", lambda d: flushes.append(d) or real_sync(d))
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
    with DurableBatch() as batch:
        for i in range(20):
            d = tmp_path / f"d{i}"
            d.mkdir()
            batch.add_directory(d)
            for j in range(100):
                batch.write(d / f"{j}.crt", b"-----BEGIN CERTIFICATE-----\n" + b"A" * 600)
    assert len(batch.written) == 2000
    assert all((tmp_path / f"d{i}" / "99.crt").stat().st_size == 628 for i in range(20))
    assert len(flushes) == 2 and fsyncs == []
