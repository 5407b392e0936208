"""The helper process that creates a large step's files (workbench.workspace.filehelper):
a real ``python -I -S workbench/newfile.py`` child, on a real directory."""

import os
import signal
import stat
from pathlib import Path

import pytest

from workbench.errors import WorkspaceError
from workbench.newfile import frame, serve
from workbench.secrets import note_old_key_env
from workbench.workspace import filehelper
from workbench.workspace.filehelper import HelperFiles, LocalFiles, new_files


def _open(directory: Path) -> int:
    return os.open(directory, os.O_RDONLY | os.O_DIRECTORY)


def _helper(directory: Path, created: list[str]) -> tuple[HelperFiles, int]:
    fd = _open(directory)
    return HelperFiles(fd, str(directory), created), fd


@pytest.mark.parametrize("umask", [0o077, 0o000])
def test_files_come_out_in_order_with_exactly_their_modes(tmp_path, umask):
    old = os.umask(umask)
    created: list[str] = []
    try:
        helper, fd = _helper(tmp_path, created)
        with helper:
            for i in range(40):
                helper.create(f"f{i}.key", b"K%d" % i, 0o600)
                helper.create(f"f{i}.crt", b"C%d" % i, 0o644)
    finally:
        os.umask(old)
        os.close(fd)
    assert created == [str(tmp_path / f"f{i}.{e}") for i in range(40) for e in ("key", "crt")]
    for i in range(40):
        key, crt = tmp_path / f"f{i}.key", tmp_path / f"f{i}.crt"
        assert key.read_bytes() == b"K%d" % i and crt.read_bytes() == b"C%d" % i
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(crt.stat().st_mode) == 0o644


def test_it_stops_at_an_existing_file_and_says_which(tmp_path):
    (tmp_path / "b").write_bytes(b"kept")
    created: list[str] = []
    helper, fd = _helper(tmp_path, created)
    try:
        with pytest.raises(FileExistsError) as caught, helper:  # by create or by close
            for name in ("a", "b", "c"):
                helper.create(name, b"new", 0o600)
    finally:
        os.close(fd)
    assert caught.value.filename == "b"
    assert created == [str(tmp_path / "a")]  # exactly what exists because of it
    assert (tmp_path / "b").read_bytes() == b"kept" and not (tmp_path / "c").exists()


def test_a_planted_symlink_is_never_written_through(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "d"
    target.mkdir()
    os.symlink(outside / "stolen.key", target / "x.key")
    created: list[str] = []
    helper, fd = _helper(target, created)
    try:
        with pytest.raises(FileExistsError), helper:
            helper.create("x.key", b"secret", 0o600)
    finally:
        os.close(fd)
    assert list(outside.iterdir()) == [] and created == []


def test_leaving_on_an_error_names_every_file_it_made(tmp_path):
    created: list[str] = []
    helper, fd = _helper(tmp_path, created)
    try:
        with pytest.raises(RuntimeError, match="signer"), helper:
            helper.create("a", b"1", 0o600)
            helper.create("b", b"2", 0o600)
            raise RuntimeError("signer gone")
    finally:
        os.close(fd)
    assert created == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert all(Path(p).is_file() for p in created)


def test_it_inherits_no_secret_and_no_other_descriptor(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "ca-passphrase-canary-1234")
    monkeypatch.setenv("PAYMENTS_OLD_KEY", "old-key-canary-5678")
    note_old_key_env(["PAYMENTS_OLD_KEY"])
    unrelated = os.open(tmp_path, os.O_RDONLY)  # not for the helper
    created: list[str] = []
    helper, fd = _helper(tmp_path, created)
    try:
        environ = Path(f"/proc/{helper.pid}/environ").read_bytes()
        fds = {int(n) for n in os.listdir(f"/proc/{helper.pid}/fd")}
        helper.close()
    finally:
        os.close(fd)
        os.close(unrelated)
    assert b"canary" not in environ and b"WORKBENCH_" not in environ
    assert fd in fds and unrelated not in fds


def test_a_helper_that_dies_is_a_clear_error(tmp_path):
    created: list[str] = []
    helper, fd = _helper(tmp_path, created)
    try:
        os.kill(helper.pid, signal.SIGKILL)
        with pytest.raises(WorkspaceError, match="stopped before its report"):
            for i in range(2000):  # until the pipe reports it closed, or at close
                helper.create(f"n{i}", b"x" * 1024, 0o600)
            helper.close()
    finally:
        os.close(fd)


def test_a_torn_frame_is_refused(tmp_path):
    import io

    fd = _open(tmp_path)
    report = io.BytesIO()
    try:
        whole = frame("a", b"data", 0o600)
        created = serve(fd, io.BytesIO(whole + frame("b", b"data", 0o600)[:-2]), report)
        slash = serve(fd, io.BytesIO(frame("../c", b"x", 0o600)), io.BytesIO())
    finally:
        os.close(fd)
    assert created == 1 and b"torn" in report.getvalue()
    assert slash == 0 and sorted(os.listdir(tmp_path)) == ["a"]


def test_many_files_go_to_the_helper_and_few_stay_here(tmp_path):
    fd = _open(tmp_path)
    try:
        few = new_files(fd, str(tmp_path), [], expected=filehelper.HELPER_MIN_FILES - 1)
        many = new_files(fd, str(tmp_path), [], expected=filehelper.HELPER_MIN_FILES)
        many.close()
    finally:
        os.close(fd)
    assert isinstance(few, LocalFiles) and isinstance(many, HelperFiles)


def test_ctrl_c_leaves_the_decision_to_the_issuing_process(tmp_path):
    """SIGINT reaches the whole process group: the helper goes on and reports every file."""
    import time

    created: list[str] = []
    helper, fd = _helper(tmp_path, created)
    try:
        helper.create("a", b"x" * 65536, 0o600)  # larger than the buffer: sent at once
        deadline = time.monotonic() + 30
        while not (tmp_path / "a").exists():  # the helper is serving (its handler is set)
            assert time.monotonic() < deadline, "the helper never created its first file"
            time.sleep(0.01)
        os.kill(helper.pid, signal.SIGINT)
        helper.create("b", b"y", 0o600)
        helper.close()
    finally:
        os.close(fd)
    assert created == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert (tmp_path / "b").read_bytes() == b"y"
