"""Bulk issuance (``ensure_certificates``): idempotent, renewals supersede, a kill between
"files written" and "state saved" converges (req. 26), files 0600/0700 without links (req. 9),
one chained audit record per change and nothing committed on failure (req. 25)."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from workspace_certbulk_support import STEP, requests, use_writer

from workbench.errors import AuditError, UnsafePathError, WorkspaceError
from workbench.workspace import Workspace, ensure_certificates, find_orphans, verify_audit

HERE = Path(__file__).resolve().parent
SERVICES = [f"svc-{i:02d}" for i in range(12)]
EXTS = ("chain.pem", "crt", "key")


@pytest.fixture(autouse=True, params=["in-process", "helper"])
def writer(request, monkeypatch):
    """Every test runs with the files created in this process and by the helper process."""
    from workbench.workspace import filehelper

    monkeypatch.setattr(filehelper, "HELPER_MIN_FILES", filehelper.HELPER_MIN_FILES)
    use_writer(request.param)
    return request.param


@pytest.fixture
def wsdir(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text("version: 1\n")
    d = tmp_path / "ws"
    with Workspace.create(d, inventory_path=inv, trust_domain="acme.test") as ws:
        ws.set_plan({"waves": [{"steps": [{"key": STEP, "consumers": SERVICES}]}]})
    return d


def _child(wsdir, mode, writer, services=SERVICES):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-m", "workspace_certbulk_support", str(wsdir), mode, writer, *services],
        capture_output=True,
        text=True,
        env=env,
    )
    if mode.endswith("crash"):
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        return int(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    return {svc: (serial, issued == "True") for svc, serial, issued in rows}


def _step_dir(wsdir):
    return wsdir / "certs" / "step" / STEP


def _files(wsdir, service):
    """The service's files in the step's one flat directory."""
    return sorted(p.name for p in _step_dir(wsdir).iterdir() if p.name.startswith(f"{service}."))


def _expected(service, *serials):
    return sorted(f"{service}.{s}.{ext}" for s in serials for ext in EXTS)


def test_bulk_issue_is_idempotent_and_private_whatever_the_umask(wsdir):
    old_umask = os.umask(0o277)  # mkdir and open would give 0500 dirs and 0400 files
    try:
        with Workspace.open(wsdir) as ws:
            calls: list[str] = []
            ticks: list[int] = []
            first = ensure_certificates(
                ws, requests(SERVICES, calls), step_key=STEP, progress=ticks.append
            )
            assert [(r.service, new) for r, new in first] == [(s, True) for s in SERVICES]
            assert calls == SERVICES and sum(ticks) == len(SERVICES)
            audit_count = len(ws.audit_records())
            again = ensure_certificates(ws, requests(SERVICES, calls), step_key=STEP)
            assert calls == SERVICES, "an idempotent re-run issues nothing"
            assert [(r, new) for r, new in again] == [(r, False) for r, _ in first]
            assert len(ws.audit_records()) == audit_count
            stored = {c.serial: c for c in ws.active_certificates(step=STEP)}
            assert {r.serial: r for r, _ in first} == stored  # returned == re-read rows
            assert find_orphans(ws) == []
            assert verify_audit(ws).ok
            issues = [r for r in ws.audit_records() if r.action == "cert.issue"]
            assert [r.subject for r in issues] == [r.serial for r, _ in first]
    finally:
        os.umask(old_umask)
    for record, _ in first:
        key = wsdir / record.key_path
        assert _files(wsdir, record.service) == _expected(record.service, record.serial)
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE((wsdir / record.cert_path).stat().st_mode) == 0o644
        assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
        assert (
            (wsdir / record.chain_path)
            .read_bytes()
            .startswith((wsdir / record.cert_path).read_bytes())
        )


def test_every_file_is_flushed_before_any_row_commits(wsdir, monkeypatch):
    from workbench import fsio

    real = fsio.sync_filesystem
    flushed_with: list[int] = []  # files of the step on disk at each flush

    def counting(directory):
        flushed_with.append(len(list(_step_dir(wsdir).iterdir())))
        real(directory)

    def after_files(records):
        assert flushed_with and flushed_with[-1] == 3 * len(records) == 3 * len(SERVICES)
        with Workspace.open(wsdir) as other:  # no row is visible yet
            assert other.certificates() == []
        seen.append(len(records))

    seen: list[int] = []
    monkeypatch.setattr(fsio, "sync_filesystem", counting)
    with Workspace.open(wsdir) as ws:
        ensure_certificates(ws, requests(SERVICES), step_key=STEP, after_files=after_files)
        assert len(ws.active_certificates(step=STEP)) == len(SERVICES)
    assert seen == [len(SERVICES)]


def test_renew_supersedes_in_the_same_transaction(wsdir, writer):
    first = _child(wsdir, "first", writer)
    renewed = _child(wsdir, "renew", writer, SERVICES[:5])
    with Workspace.open(wsdir) as ws:
        active = {c.service: c.serial for c in ws.active_certificates(step=STEP)}
        for svc in SERVICES:
            old = first[svc][0]
            if svc in renewed:
                assert renewed[svc][1] and active[svc] == renewed[svc][0] != old
                assert ws.certificate(old).status == "superseded"
                assert _files(wsdir, svc) == _expected(svc, old, renewed[svc][0])
            else:
                assert active[svc] == old and ws.certificate(old).status == "active"
        actions = [r.action for r in ws.audit_records()]
        assert actions.count("cert.supersede") == actions.count("cert.renew") == 5
        assert verify_audit(ws).ok


def test_killed_between_files_and_commit_converges(wsdir, writer):
    assert _child(wsdir, "crash", writer) == len(SERVICES)
    with Workspace.open(wsdir) as ws:
        assert ws.certificates() == []
        assert len(find_orphans(ws)) == 3 * len(SERVICES)
    first = _child(wsdir, "first", writer)
    assert all(issued for _, issued in first.values())
    assert _child(wsdir, "first", writer) == {
        s: (serial, False) for s, (serial, _) in first.items()
    }
    for svc, (serial, _) in first.items():
        assert _files(wsdir, svc) == _expected(svc, serial)  # the crashed run's files are gone

    # a renewal killed after its files changes nothing; its re-run supersedes
    assert _child(wsdir, "renew-crash", writer) == len(SERVICES)
    with Workspace.open(wsdir) as ws:
        active = {c.service: c.serial for c in ws.active_certificates(step=STEP)}
        assert active == {s: serial for s, (serial, _) in first.items()}
    renewed = _child(wsdir, "renew", writer)
    with Workspace.open(wsdir) as ws:
        active = ws.active_certificates(step=STEP)
        assert sorted(c.service for c in active) == SERVICES  # exactly one per service
        assert {c.service: c.serial for c in active} == {s: v[0] for s, v in renewed.items()}
        assert find_orphans(ws) == []
        assert verify_audit(ws).ok
    for svc in SERVICES:
        assert _files(wsdir, svc) == _expected(svc, first[svc][0], renewed[svc][0])


def test_failure_midway_leaves_no_rows_and_no_files(wsdir):
    reqs = requests(SERVICES)

    def broken():
        raise RuntimeError("HSM unavailable")

    reqs[4] = type(reqs[4])(SERVICES[4], broken)
    with Workspace.open(wsdir) as ws:
        count = len(ws.audit_records())
        with pytest.raises(RuntimeError, match="HSM"):
            ensure_certificates(ws, reqs, step_key=STEP)
        assert ws.certificates() == [] and len(ws.audit_records()) == count
    assert not [p for p in (wsdir / "certs").rglob("*") if p.is_file()]


def test_audit_write_failure_commits_nothing_and_removes_the_files(wsdir):
    def broken_writer(path, data):
        raise OSError(28, "No space left on device")

    with Workspace.open(wsdir, audit_writer=broken_writer) as ws:
        with pytest.raises(AuditError, match="nothing was changed"):
            ensure_certificates(ws, requests(SERVICES), step_key=STEP)
        assert ws.certificates() == []
    assert not [p for p in (wsdir / "certs").rglob("*") if p.is_file()]


def test_refused_audit_inside_a_caller_transaction_keeps_nothing(wsdir):
    with Workspace.open(wsdir) as ws:
        ws.guard.forbid("svc-03")  # the guard refuses that record after the rows are in
        with ws.transaction():
            with pytest.raises(AuditError):
                ensure_certificates(ws, requests(SERVICES), step_key=STEP)
            ws.audit("test.marker", "x")  # the caller goes on and commits
        assert ws.certificates() == []
        assert ws.audit_records()[-1].action == "test.marker" and verify_audit(ws).ok
    assert not [p for p in (wsdir / "certs").rglob("*") if p.is_file()]


def test_planted_symlinks_are_refused(wsdir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    reqs = requests(SERVICES)
    material = reqs[3].issue()  # plant a link where this certificate's key will be written
    serial = format(x509.load_pem_x509_certificate(material.cert_pem).serial_number, "x")
    reqs[3] = type(reqs[3])(SERVICES[3], lambda: material)
    _step_dir(wsdir).mkdir(parents=True)
    os.symlink(outside / "stolen.key", _step_dir(wsdir) / f"{SERVICES[3]}.{serial}.key")
    with Workspace.open(wsdir) as ws:
        with pytest.raises(UnsafePathError, match="symlink"):
            ensure_certificates(ws, reqs, step_key=STEP)
        assert ws.certificates() == []
    assert list(outside.iterdir()) == []
    assert [p.name for p in _step_dir(wsdir).iterdir()] == [f"{SERVICES[3]}.{serial}.key"]
    os.unlink(_step_dir(wsdir) / f"{SERVICES[3]}.{serial}.key")
    _step_dir(wsdir).rmdir()
    os.symlink(outside, _step_dir(wsdir))  # the step directory itself
    with Workspace.open(wsdir) as ws, pytest.raises(UnsafePathError, match="symlink"):
        ensure_certificates(ws, requests(SERVICES), step_key=STEP)
    assert list(outside.iterdir()) == []


def test_bad_requests_are_refused_before_anything_is_written(wsdir):
    with Workspace.open(wsdir) as ws:
        with pytest.raises(WorkspaceError, match="twice"):
            ensure_certificates(ws, requests(["web", "web"]), step_key=STEP)
        for bad in ("../../etc", "w\u0435b"):
            with pytest.raises(UnsafePathError):
                ensure_certificates(ws, requests([bad]), step_key=STEP)
        assert ws.certificates() == []
    assert not (wsdir / "certs").exists()


def test_a_failed_last_flush_commits_nothing_and_removes_the_files(wsdir, monkeypatch):
    from workbench import fsio

    flushes: list[str] = []

    def failing(directory):  # the flushes ahead are ignored; the last one counts
        flushes.append(directory)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(fsio, "sync_filesystem", failing)
    with Workspace.open(wsdir) as ws:
        with pytest.raises(OSError, match="Input/output"):
            ensure_certificates(ws, requests(SERVICES), step_key=STEP)
        assert ws.certificates() == [] and verify_audit(ws).ok
    assert flushes and not [p for p in (wsdir / "certs").rglob("*") if p.is_file()]


@pytest.mark.parametrize("fails", [False, True])
def test_the_cycle_collector_is_paused_while_issuing_and_restored(wsdir, fails):
    """Issuing pauses the collector (its walks cost ~10% of the CPU) and puts it back as it
    was, also after a failure; one that was off before stays off."""
    import gc

    seen: list[bool] = []
    reqs = requests(SERVICES)
    inner = reqs[3].issue

    def watched():
        seen.append(gc.isenabled())
        if fails:
            raise RuntimeError("HSM unavailable")
        return inner()

    reqs[3] = type(reqs[3])(SERVICES[3], watched)
    with Workspace.open(wsdir) as ws:
        for enabled_before in (True, False):
            (gc.enable if enabled_before else gc.disable)()
            try:
                if fails:
                    with pytest.raises(RuntimeError, match="HSM"):
                        ensure_certificates(ws, reqs, step_key=STEP, renew=True)
                else:
                    ensure_certificates(ws, reqs, step_key=STEP, renew=True)
                assert gc.isenabled() is enabled_before
            finally:
                gc.enable()
    assert seen == [False, False]


def test_flushes_ahead_only_while_this_process_writes(wsdir, monkeypatch, writer):
    """In-process, the file system is flushed ahead while the files are written (every 256);
    with the helper writing, only once, behind the rows (a flush ahead would take the
    signing core). Either way the last flush comes after the last file."""
    import threading

    from workbench import fsio

    real = fsio.sync_filesystem
    flushed_with: list[int] = []
    flushed = threading.Event()

    def counting(directory):
        flushed_with.append(len(list(_step_dir(wsdir).iterdir())))
        real(directory)
        flushed.set()

    services = [f"svc-{i:03d}" for i in range(100)]  # 300 files: one flush ahead is due
    reqs = requests(services)
    last = reqs[-1].issue

    def issue_last():
        if writer == "in-process":  # the flush ahead was asked for at file 256: let it run
            assert flushed.wait(timeout=30), "no flush ahead while writing in-process"
        return last()

    reqs[-1] = type(reqs[-1])(services[-1], issue_last)
    monkeypatch.setattr(fsio, "sync_filesystem", counting)
    with Workspace.open(wsdir) as ws:
        ensure_certificates(ws, reqs, step_key=STEP)
    assert flushed_with[-1] == 3 * len(services)
    assert len(flushed_with) == (1 if writer == "helper" else 2)


def test_a_step_directory_is_made_private_and_leaves_no_fresh_directory_behind(wsdir):
    """The step's directory is made under a random ``.new-*`` name and renamed into place;
    empty ``.new-*`` directories that a killed run left are swept, nothing else is."""
    parent = _step_dir(wsdir).parent
    parent.mkdir(parents=True, exist_ok=True)
    (parent / ".new-0123456789abcdef").mkdir()  # left by a run killed before its rename
    kept = parent / ".new-fedcba9876543210"
    kept.mkdir()
    (kept / "note").write_text("not ours to delete")
    (parent / ".new-link").symlink_to(wsdir)
    with Workspace.open(wsdir) as ws:
        ensure_certificates(ws, requests(SERVICES[:2]), step_key=STEP)
    assert stat.S_IMODE(_step_dir(wsdir).stat().st_mode) == 0o700
    assert sorted(p.name for p in parent.iterdir() if p.name.startswith(".new-")) == [
        ".new-fedcba9876543210",
        ".new-link",
    ]
    assert (kept / "note").exists() and (parent / ".new-link").is_symlink()
