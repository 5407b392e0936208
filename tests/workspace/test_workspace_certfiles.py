"""Certificate files and crash convergence (req. 26, 9, 21): killed between "files written"
and "state saved", a re-run ends with exactly one active certificate per (step, service)."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from workbench.errors import UnsafePathError
from workbench.workspace import Workspace, find_orphans, remove_orphans, verify_audit

ISSUER = textwrap.dedent(
    """
    import datetime as dt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from workbench.workspace import CertificateMaterial

    def make_issuer(service):
        def issue():
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)])
            now = dt.datetime.now(dt.UTC)
            cert = (
                x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(f"spiffe://acme.test/{service}")]), False)
                .sign(key, hashes.SHA256())
            )
            pem = cert.public_bytes(serialization.Encoding.PEM)
            key_pem = key.private_bytes(serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            return CertificateMaterial(cert_pem=pem, key_pem=key_pem, chain_pem=pem)
        return issue
    """
)

CHILD = ISSUER + textwrap.dedent(
    """
    import os, signal, sys
    from workbench.workspace import Workspace, ensure_certificate
    wsdir, service, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    def die(record):
        os.kill(os.getpid(), signal.SIGKILL)
    with Workspace.open(wsdir) as ws:
        rec, issued = ensure_certificate(
            ws, service=service, step_key="k-pay", issue=make_issuer(service),
            renew=mode.startswith("renew"), after_files=die if mode.endswith("crash") else None,
        )
        print(rec.serial, issued)
    """
)


def _run(wsdir, service, mode):
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(wsdir), service, mode], capture_output=True, text=True
    )
    if mode.endswith("crash"):
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        return None
    assert proc.returncode == 0, proc.stderr
    serial, issued = proc.stdout.split()
    return serial, issued == "True"


@pytest.fixture
def wsdir(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text("version: 1\n")
    d = tmp_path / "ws"
    with Workspace.create(d, inventory_path=inv, trust_domain="acme.test") as ws:
        ws.set_plan({"waves": [{"steps": [{"key": "k-pay", "consumers": ["web", "worker"]}]}]})
    return d


def _slot_files(wsdir, service):
    """The service's files in the step's one flat directory."""
    step_dir = wsdir / "certs" / "step" / "k-pay"
    return sorted(p.name for p in step_dir.iterdir() if p.name.startswith(f"{service}."))


def test_killed_between_files_and_state_converges_to_one_active_cert(wsdir):
    assert _run(wsdir, "web", "crash") is None
    with Workspace.open(wsdir) as ws:
        assert ws.active_certificates() == []
        orphans = find_orphans(ws)
        assert len(orphans) == 3  # crt, key, chain of the lost issuance
    crashed_serial = orphans[0].name.split(".")[1]  # web.<serial>.crt

    serial, issued = _run(wsdir, "web", "first")
    assert issued and serial != crashed_serial
    assert _run(wsdir, "web", "again") == (serial, False)  # idempotent re-run
    assert _slot_files(wsdir, "web") == [
        f"web.{serial}.{ext}" for ext in ("chain.pem", "crt", "key")
    ]

    # a renewal killed after writing its files changes nothing ...
    assert _run(wsdir, "web", "renew-crash") is None
    with Workspace.open(wsdir) as ws:
        assert [c.serial for c in ws.active_certificates(step="k-pay", service="web")] == [serial]
    # ... and the re-run supersedes the old cert in the same transaction
    renewed, issued = _run(wsdir, "web", "renew")
    assert issued and renewed != serial
    with Workspace.open(wsdir) as ws:
        active = ws.active_certificates(step="k-pay", service="web")
        assert [c.serial for c in active] == [renewed]
        assert ws.certificate(serial).status == "superseded"
        assert find_orphans(ws) == []
        rec = active[0]
        assert rec.spiffe_id == "spiffe://acme.test/web" and len(rec.x5t_s256) == 43
        assert (wsdir / rec.cert_path).is_file()
        key = wsdir / rec.key_path
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
        assert verify_audit(ws).ok
        actions = [r.action for r in ws.audit_records()]
        assert actions.count("cert.issue") == 1 and actions.count("cert.renew") == 1
    assert _slot_files(wsdir, "web") == sorted(
        f"web.{s}.{ext}" for s in (serial, renewed) for ext in ("chain.pem", "crt", "key")
    )


def test_other_slots_are_untouched_and_orphans_can_be_swept(wsdir):
    assert _run(wsdir, "worker", "crash") is None
    web, _ = _run(wsdir, "web", "first")  # cleaning is per slot: worker's orphans stay
    with Workspace.open(wsdir) as ws:
        assert len(find_orphans(ws)) == 3
        removed = remove_orphans(ws)
        assert len(removed) == 3 and find_orphans(ws) == []
        assert ws.audit_records()[-1].action == "cert.orphans_removed"
        assert [c.serial for c in ws.active_certificates()] == [web]


def test_paths_refuse_hostile_service_names(wsdir):
    from workbench.workspace import certificate_paths, ensure_certificate

    with Workspace.open(wsdir) as ws:
        for bad in ("../../etc", "web/../x", "w\u0435b"):
            with pytest.raises(UnsafePathError):
                ensure_certificate(ws, service=bad, step_key="k-pay", issue=lambda: None)
            with pytest.raises(UnsafePathError):
                certificate_paths(ws, service=bad, serial="a1", step_key="k-pay")


def test_planted_symlink_in_the_cert_tree_is_refused(wsdir, tmp_path):
    from workbench.workspace import ensure_certificate

    outside = tmp_path / "outside"
    outside.mkdir()
    (wsdir / "certs" / "step").mkdir(parents=True)
    os.symlink(outside, wsdir / "certs" / "step" / "k-pay")
    ns: dict = {}
    exec(ISSUER, ns)  # noqa: S102 - test helper source shared with the child process
    with Workspace.open(wsdir) as ws:
        with pytest.raises(UnsafePathError, match="symlink"):
            ensure_certificate(ws, service="web", step_key="k-pay", issue=ns["make_issuer"]("web"))
        assert ws.certificates() == []
    assert list(outside.iterdir()) == []


def test_in_process_issue_with_injected_time(wsdir):
    from workbench.workspace import ensure_certificate

    ns: dict = {}
    exec(ISSUER, ns)  # noqa: S102
    t = datetime(2026, 5, 1, tzinfo=UTC)
    with Workspace.open(wsdir) as ws:
        rec, issued = ensure_certificate(
            ws,
            service="web",
            step_key="k-pay",
            issue=ns["make_issuer"]("web"),
            now=t,
            durable=False,
        )
        assert issued and rec.issued_at == t
        assert ws.audit_records()[-1].time.startswith("2026-05-01")


def test_bulk_issue_in_one_transaction_and_one_batch(wsdir):
    from workbench.workspace import DurableBatch, ensure_certificate

    ns: dict = {}
    exec(ISSUER, ns)  # noqa: S102
    services = [f"svc-{i:03d}" for i in range(150)]
    with Workspace.open(wsdir) as ws:
        with ws.transaction():
            with DurableBatch() as batch:
                for svc in services:
                    ensure_certificate(
                        ws, service=svc, step_key="k-pay", issue=ns["make_issuer"](svc), batch=batch
                    )
            assert len(batch.written) == 450
        assert len(ws.active_certificates(step="k-pay")) == 150
        assert find_orphans(ws) == []
        assert verify_audit(ws).ok
        # a failure inside the transaction leaves neither rows nor files
        with pytest.raises(RuntimeError), ws.transaction(), DurableBatch() as batch:
            ensure_certificate(
                ws, service="late", step_key="k-pay", issue=ns["make_issuer"]("late"), batch=batch
            )
            raise RuntimeError("gateway reload failed")
        assert ws.active_certificates(service="late") == []
    assert _slot_files(wsdir, "late") == []


def test_files_of_the_older_per_service_layout_are_read_by_the_sweep(wsdir):
    # Workspaces written before the flat layout keep certs/step/<step>/<service>/<serial>.*
    web, _ = _run(wsdir, "web", "first")
    old_slot = wsdir / "certs" / "step" / "k-pay" / "web"
    old_slot.mkdir(mode=0o700)
    for ext in ("crt", "key", "chain.pem"):
        (old_slot / f"{web}.{ext}").write_bytes(b"kept: its serial has a row")
        (old_slot / f"ab12cd.{ext}").write_bytes(b"orphan: no row")
    with Workspace.open(wsdir) as ws:
        assert sorted(p.name for p in find_orphans(ws)) == [
            "ab12cd.chain.pem",
            "ab12cd.crt",
            "ab12cd.key",
        ]
        remove_orphans(ws)
    assert sorted(p.name for p in old_slot.iterdir()) == sorted(
        f"{web}.{ext}" for ext in ("chain.pem", "crt", "key")
    )
    assert _slot_files(wsdir, "web") == sorted(
        f"web.{web}.{ext}" for ext in ("chain.pem", "crt", "key")
    )
