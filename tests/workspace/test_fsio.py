"""workbench.fsio, the one durable-write layer (security requirements 9 and 24): exact modes
under any umask, symlinks refused, nothing half-written left behind."""

import os
import stat

import pytest

from workbench import fsio
from workbench.errors import UnsafePathError, WorkspaceError


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o077, 0o777])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_exact_modes_whatever_the_umask(tmp_path, umask):
    fsio.atomic_write(tmp_path / "secret", b"k", mode=0o600)
    fsio.atomic_write(tmp_path / "public", b"c", mode=0o644)
    fsio.create_private_file(tmp_path / "log")
    os.mkdir(tmp_path / "d", 0o777)
    fd = os.open(tmp_path / "d", fsio.DIR_FLAGS)
    try:
        fsio.force_mode(fd, 0o700)
        fsio.create_new("key", b"x", 0o600, dir_fd=fd)
        fsio.replace_in_dir(fd, "key", b"y", 0o600, fsync=True)
    finally:
        os.close(fd)
    assert mode_of(tmp_path / "secret") == 0o600
    assert mode_of(tmp_path / "public") == 0o644
    assert mode_of(tmp_path / "log") == 0o600
    assert mode_of(tmp_path / "d") == 0o700
    assert mode_of(tmp_path / "d" / "key") == 0o600
    assert (tmp_path / "d" / "key").read_bytes() == b"y"
    assert sorted(os.listdir(tmp_path / "d")) == ["key"]  # no temp file left


def test_symlinks_are_refused_never_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symlink"):
        fsio.atomic_write(link, b"new", mode=0o600)
    with pytest.raises(FileExistsError):
        fsio.create_new(link, b"new", 0o600)
    with pytest.raises(OSError):  # O_NOFOLLOW: ELOOP
        fsio.append_durable(link, b"new")
    dir_link = tmp_path / "dirlink"
    dir_link.symlink_to(tmp_path)
    with pytest.raises(OSError):
        os.open(dir_link, fsio.DIR_FLAGS)
    assert victim.read_bytes() == b"untouched"
    assert os.path.islink(link)


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f"
    fsio.atomic_write(target, b"one", mode=0o644)
    fsio.atomic_write(target, b"two", mode=0o644, durable=False)
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["f"]
    with pytest.raises(WorkspaceError, match="does not exist"):
        fsio.atomic_write(tmp_path / "missing" / "f", b"x")


def test_a_failed_write_removes_its_half_written_file(tmp_path, monkeypatch):
    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    from workbench import newfile

    monkeypatch.setattr(newfile, "write_all", full_disk)  # fsio re-exports newfile's creation
    with pytest.raises(OSError, match="No space"):
        fsio.create_new(tmp_path / "new", b"data", 0o600)
    fd = os.open(tmp_path, fsio.DIR_FLAGS)
    try:
        (tmp_path / "kept").write_bytes(b"old")
        with pytest.raises(OSError, match="No space"):
            fsio.replace_in_dir(fd, "kept", b"new", 0o600, fsync=False)
    finally:
        os.close(fd)
    assert os.listdir(tmp_path) == ["kept"]
    assert (tmp_path / "kept").read_bytes() == b"old"


def test_append_durable_appends(tmp_path):
    log = tmp_path / "audit.jsonl"
    fsio.create_private_file(log)
    fsio.append_durable(log, b"a\n")
    fsio.append_durable(log, b"b\n")
    assert log.read_bytes() == b"a\nb\n"
    with pytest.raises(FileExistsError):
        fsio.create_private_file(log)


def test_every_writer_uses_this_layer():
    # The old modules keep their names but write through fsio: one layer, one set of rules.
    from workbench.inventory import dump
    from workbench.pki import keystore
    from workbench.workspace import atomic, filehelper, store

    assert atomic.atomic_write is fsio.atomic_write
    assert atomic.DurableBatch is fsio.DurableBatch
    assert store._append_fsync is fsio.append_durable
    assert keystore.replace_in_dir is fsio.replace_in_dir
    assert filehelper.create_new is fsio.create_new  # bulk issuance, in process or helper
    assert dump.atomic_write is fsio.atomic_write


def _recording_flushes(monkeypatch):
    """Record which thread called each flush; ``ahead`` is set by a flush off the caller."""
    import threading

    calls: list[str] = []
    ahead = threading.Event()

    def record(directory):
        calls.append(threading.current_thread().name)
        if threading.current_thread() is not threading.main_thread():
            ahead.set()

    monkeypatch.setattr(fsio, "sync_filesystem", record)
    return calls, ahead


def test_flush_ahead_flushes_while_writing_and_last_in_the_caller(tmp_path, monkeypatch):
    import threading

    calls, ahead = _recording_flushes(monkeypatch)
    with fsio.FlushAhead(tmp_path, every=2) as flush:
        flush.wrote(1)
        assert calls == []  # not due yet
        flush.wrote(1)
        assert ahead.wait(timeout=30), "no flush ahead within 30 s"
        assert calls == ["flush-ahead"]
        flush.wrote(1)
        flush.finish()
        # the flush durability relies on ran last, in the caller, after the thread stopped
        assert calls[-1] == threading.current_thread().name == "MainThread"
    assert not any(t.name == "flush-ahead" for t in threading.enumerate())


def test_flush_ahead_flushes_nothing_more_after_an_error_or_when_disabled(tmp_path, monkeypatch):
    import threading

    calls, _ = _recording_flushes(monkeypatch)
    with pytest.raises(RuntimeError), fsio.FlushAhead(tmp_path, every=1000) as flush:
        flush.wrote(1)
        raise RuntimeError("the issuer failed")
    assert calls == [] and not any(t.name == "flush-ahead" for t in threading.enumerate())
    with fsio.FlushAhead(tmp_path, enabled=False, every=1) as flush:
        flush.wrote(5)
        flush.finish()
    assert calls == [] and flush.flushes == 0


def test_the_last_flush_behind_runs_after_the_writes_and_its_error_is_raised(tmp_path, monkeypatch):
    import threading

    calls, _ = _recording_flushes(monkeypatch)
    with fsio.FlushAhead(tmp_path, every=1000) as flush:
        flush.wrote(1)
        flush.finish_behind()  # returns at once; the flush runs in the thread
        flush.wait()
    assert calls == ["flush-ahead"]
    assert not any(t.name == "flush-ahead" for t in threading.enumerate())

    def failing(directory):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(fsio, "sync_filesystem", failing)
    with fsio.FlushAhead(tmp_path, every=1000) as flush:
        flush.wrote(1)
        flush.finish_behind()
        with pytest.raises(OSError, match="Input/output"):  # durability relies on this one
            flush.wait()


def test_create_new_spares_fchmod_only_where_open_gives_the_mode(tmp_path, umask, monkeypatch):
    chmods: list[int] = []
    real = os.fchmod
    monkeypatch.setattr(os, "fchmod", lambda fd, mode: chmods.append(mode) or real(fd, mode))
    seen: dict[int, bool] = {}
    fd = os.open(tmp_path, fsio.DIR_FLAGS)
    try:
        for i in range(3):
            fsio.create_new(f"{i}.key", b"k", 0o600, dir_fd=fd, seen=seen)
            fsio.create_new(f"{i}.crt", b"c", 0o644, dir_fd=fd, seen=seen)
    finally:
        os.close(fd)
    for i in range(3):  # exact modes whatever the umask
        assert mode_of(tmp_path / f"{i}.key") == 0o600
        assert mode_of(tmp_path / f"{i}.crt") == 0o644
    assert seen == {0o600: umask & 0o600 == 0, 0o644: umask & 0o644 == 0}
    assert chmods.count(0o600) == (0 if seen[0o600] else 3)
    assert chmods.count(0o644) == (0 if seen[0o644] else 3)


def test_a_device_pipe_or_directory_is_never_replaced(tmp_path):
    """The rename of an atomic write would put a plain file where a device or pipe was (as
    root, /dev/null for every program on the machine): refused, the node left as it was."""
    fifo, directory = tmp_path / "fifo", tmp_path / "dir"
    os.mkfifo(fifo)
    directory.mkdir()
    nodes = [fifo, directory]
    if os.geteuid() == 0:  # a real character device node (the same numbers as /dev/null)
        os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        nodes.append(tmp_path / "null")
    for node in nodes:
        kind = stat.S_IFMT(os.lstat(node).st_mode)
        with pytest.raises(UnsafePathError, match="refusing to replace"):
            fsio.atomic_write(node, b"data")
        with pytest.raises(UnsafePathError, match="refusing to replace"), fsio.DurableBatch() as b:
            b.write(node, b"data")
        assert stat.S_IFMT(os.lstat(node).st_mode) == kind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in nodes)


def _attribute_flags(path) -> int | None:
    """``lsattr``'s flags of ``path``, None where the file system keeps none (tmpfs)."""
    import array
    import fcntl

    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, 0x80086601, flags, True)  # FS_IOC_GETFLAGS
        return flags[0]
    except OSError:
        return None
    finally:
        os.close(fd)


def test_step_directories_go_to_block_groups_of_their_own(tmp_path):
    """certs/step gets ext4's Orlov hint (chattr +T) before a step's directory is made."""
    from workspace_certbulk_support import STEP, requests

    from workbench.workspace import Workspace, ensure_certificates

    top = 0x00020000  # FS_TOPDIR_FL
    plain = tmp_path / "plain"
    plain.mkdir()
    before = _attribute_flags(plain)
    assert fsio.spread_subdirectories(plain) is (before is not None)
    if before is not None:  # ext4 here and in CI (the test machine's /tmp)
        assert not before & top and _attribute_flags(plain) & top
        assert _attribute_flags(plain) & ~top == before  # nothing else changed
    assert fsio.spread_subdirectories(tmp_path / "missing") is False
    os.symlink(plain, tmp_path / "link")
    assert fsio.spread_subdirectories(tmp_path / "link") is False  # never through a link

    inv = tmp_path / "inventory.yaml"
    inv.write_text("version: 1\n")
    with Workspace.create(tmp_path / "ws", inventory_path=inv, trust_domain="acme.test") as ws:
        ws.set_plan({"waves": [{"steps": [{"key": STEP, "consumers": ["a", "b"]}]}]})
        ensure_certificates(ws, requests(["a", "b"]), step_key=STEP)
    flags = _attribute_flags(tmp_path / "ws" / "certs" / "step")
    assert flags is None if before is None else flags & top
    # made under a random name (a random block group) and renamed: nothing else is left
    assert os.listdir(tmp_path / "ws" / "certs" / "step") == [STEP]
