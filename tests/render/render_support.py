"""Fixtures for tests/render: a real workspace and the real sample environment on a free port.

One module-scoped setup (init, issue with PKCS#12, gateway certificate, CRLs, a python
gateway in mtls mode for payments-api) is shared by the proof-by-use tests; it costs ~2 s.
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit import ensure_gateway_available, free_port

from workbench.gateway.proc import wait_until

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
PASSPHRASE = "render-test-passphrase"
P12_PASSWORD = "render-p12-password"
STEP = "pay-key-prod"
OTHER_STEP = "cards-key"  # consumer payments-svc: not allowed on payments-api


def ensure_nginx() -> str:
    """The nginx binary; fails when missing unless WORKBENCH_SKIP_NGINX=1 (as tests/gateway)."""
    ensure_gateway_available("nginx")
    return shutil.which("nginx") or "/usr/sbin/nginx"


def open_test_campaign(ws: Path):
    from workbench.migration import open_campaign

    return open_campaign(ws, passphrase=lambda: PASSPHRASE)


@dataclass
class Setup:
    """The shared world: workspace, inventory copy, running sample env, rendered files."""

    tmp: Path
    inventory: Path
    ws: Path
    port: int
    env: object
    backend_url: str
    rendered: object  # RenderResult
    now: datetime

    def client_dir(self, service: str) -> Path:
        return self.rendered.directory / "clients" / service

    def old_key(self, key_id: str = STEP) -> str:
        return (self.tmp / "state" / "keys" / f"{key_id}.key").read_text().strip()

    def cert_files(self, service: str, step: str = STEP) -> tuple[Path, Path]:
        """(chain, key) of a service's active certificate for a step."""
        with open_test_campaign(self.ws) as c:
            rec = c.workspace.active_in_slot(step, service, "client")[0]
        return self.ws / rec.chain_path, self.ws / rec.key_path

    def context(self, service: str | None = None, step: str = STEP) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ws / "ca" / "root.crt"))
        if service:
            chain, key = self.cert_files(service, step)
            ctx.load_cert_chain(str(chain), str(key))
        return ctx


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from workbench.cli import main
    from workbench.inventory import load_inventory
    from workbench.lab import SampleEnv
    from workbench.migration import issue_gateway_certificate, issue_step, publish_crls
    from workbench.render import render_step

    tmp = tmp_path_factory.mktemp("render")
    port = free_port()
    inv = tmp / "inventory.yaml"
    inv.write_text(SAMPLE.read_text().replace("127.0.0.1:8443", f"127.0.0.1:{port}"))
    ws = tmp / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_CA_PASSPHRASE", PASSPHRASE)
        assert main(["init", str(inv), "--workspace", str(ws)]) == 0
    now = datetime.now(UTC)
    with open_test_campaign(ws) as c:
        issue_step(c, STEP, p12_password=P12_PASSWORD, durable=False)
        issue_step(c, OTHER_STEP, durable=False)
        server = issue_gateway_certificate(c)
        publish_crls(c)
    env = SampleEnv(load_inventory(inv), tmp / "state", gateway="python", port=port)
    status = env.up(
        ws / server.chain_path, ws / server.key_path, ws / "ca" / "chain.pem",
        crl=ws / "crl" / "crl.pem", modes={"payments-api": "mtls"},
    )  # fmt: skip
    try:
        backend_url = f"http://127.0.0.1:{status.backend_port}"
        with open_test_campaign(ws) as c:
            rendered = render_step(c, STEP, now=now, upstream=backend_url, durable=False)
        yield Setup(tmp, inv, ws, port, env, backend_url, rendered, now)
    finally:
        env.down()


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, **kw)


def venv_python(script: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, str(script), *args])


class Nginx:
    """A real nginx from its own prefix dir (daemon off), stopped by PID with SIGQUIT."""

    def __init__(self, prefix: Path, http_body: str) -> None:
        self.binary = ensure_nginx()
        self.prefix = prefix
        for d in (prefix, prefix / "tmp", prefix / "logs"):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        user = "user root;\n" if os.geteuid() == 0 else ""
        tmp = prefix / "tmp"
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            f"daemon off;\n{user}worker_processes 1;\npid {prefix}/nginx.pid;\n"
            "error_log stderr warn;\nevents { worker_connections 64; }\n"
            "http {\n"
            f"    client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/px;\n"
            f"    fastcgi_temp_path {tmp}/fc; uwsgi_temp_path {tmp}/uw; scgi_temp_path {tmp}/sc;\n"
            "    access_log off;\n"
            f"{http_body}\n}}\n"
        )
        self.proc: subprocess.Popen | None = None

    def argv(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.prefix), "-c", str(self.conf), "-e", "stderr", *extra]

    def test(self) -> subprocess.CompletedProcess:
        return run(self.argv("-t"))

    def start(self, port: int) -> None:
        import socket

        self.proc = subprocess.Popen(
            self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )

        def listening() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited: {self.proc.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(listening, timeout=10, what="nginx to listen")

    def stop(self) -> str:
        """Stop it; returns what it wrote to stderr (its error log)."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        self.proc = None
        return err
