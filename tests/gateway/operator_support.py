"""Operator gateways for the tests: real nginx and HAProxy run the way an operator runs them.

Each has its own main config that includes the workbench's owned file (nginx: ``include`` of
a directory glob inside ``http {}``; HAProxy: a second ``-f`` naming a directory), its own
process and PID, and reloads through the inventory's argv (``nginx -s reload``; HAProxy
master-worker ``kill -USR2 <master pid>``). Backends are real HTTP servers on 127.0.0.1: one
that checks the key itself (``checked_by: backend``) and one that trusts the gateway.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from testkit import free_port

from workbench.gateway.proc import wait_until

BILLING_KEY = "billingBACKENDkey-0123456789abcdefXYZ"


class _Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    required_key: str | None = None

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.required_key is not None and self.headers.get("X-API-Key") != self.required_key:
            return self._send(401, {"error": "backend: bad or missing key"})
        self._send(
            200,
            {
                "path": self.path,
                "identity": self.headers.get("X-Workbench-Identity", ""),
                "auth": self.headers.get("X-Workbench-Auth", ""),
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.do_GET()

    def _send(self, status: int, obj: dict) -> None:
        send_json(self, status, obj)


def send_json(handler: BaseHTTPRequestHandler, status: int, obj: dict) -> None:
    """One JSON response (the backends' and the company authorization server's)."""
    data = json.dumps(obj).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class Backend:
    """A threaded HTTP backend on 127.0.0.1 (``required_key``: it checks the key itself)."""

    def __init__(self, required_key: str | None = None) -> None:
        handler = type("H", (_Backend,), {"required_key": required_key})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def nginx_bin() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def haproxy_bin() -> str:
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


class OperatorNginx:
    """The operator's nginx: its own main config with ``include <dir>/*.conf`` in http {}."""

    kind = "nginx"

    def __init__(self, root: Path) -> None:
        self.prefix = root / "nginx"
        self.owned_dir = self.prefix / "workbench"
        for d in (self.prefix, self.prefix / "logs", self.prefix / "tmp", self.owned_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.owned = self.owned_dir / "edge.conf"
        self.main = self.prefix / "nginx.conf"
        self.status_port = free_port()
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.main.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.prefix}/nginx.pid;\n"
            "error_log stderr warn;\nevents { worker_connections 256; }\n"
            "http {\n"
            f"    client_body_temp_path {self.prefix}/tmp/cb;\n"
            f"    proxy_temp_path {self.prefix}/tmp/proxy;\n"
            f"    fastcgi_temp_path {self.prefix}/tmp/fcgi;\n"
            f"    uwsgi_temp_path {self.prefix}/tmp/uwsgi;\n"
            f"    scgi_temp_path {self.prefix}/tmp/scgi;\n"
            "    access_log off;\n"
            f"    server {{ listen 127.0.0.1:{self.status_port}; return 204; }}\n"
            f"    include {self.owned_dir}/*.conf;\n"
            "}\n"
        )
        base = [nginx_bin(), "-p", str(self.prefix), "-c", str(self.main), "-e", "stderr"]
        self.validate = [*base, "-t", "-q"]
        self.reload = [*base, "-s", "reload"]
        self.log = open(self.prefix / "stderr.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(base, stdout=self.log, stderr=self.log)
        wait_until(lambda: (self.prefix / "nginx.pid").exists(), timeout=10, what="nginx")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=15)
        self.log.close()


class OperatorHAProxy:
    """The operator's HAProxy: master-worker, ``-f main.cfg -f <owned dir>``, USR2 reloads."""

    kind = "haproxy"

    def __init__(self, root: Path) -> None:
        self.dir = root / "haproxy"
        self.owned_dir = self.dir / "workbench"
        self.owned_dir.mkdir(parents=True, exist_ok=True)
        self.owned = self.owned_dir / "edge.cfg"
        self.main = self.dir / "haproxy.cfg"
        self.status_port = free_port()
        self.main.write_text(
            "global\n    master-worker\n\n"
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n"
            "    timeout server 30s\n\n"
            f"frontend operator_status\n    bind 127.0.0.1:{self.status_port}\n"
            "    http-request return status 204\n"
        )
        self.access_log = self.dir / "access.log"
        self.out = open(self.access_log, "ab")  # noqa: SIM115 - the workers' stdout: JSON lines
        self.err = open(self.dir / "stderr.log", "ab")  # noqa: SIM115
        argv = [haproxy_bin(), "-W", "-db", "-f", str(self.main), "-f", str(self.owned_dir)]
        self.validate = [haproxy_bin(), "-c", "-q", "-f", str(self.main), "-f", str(self.owned_dir)]
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err)
        self.reload = ["kill", "-USR2", str(self.proc.pid)]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)
        self.out.close()
        self.err.close()


def operator_inventory(
    op,
    *,
    port: int,
    orders_backend: str,
    billing_backend: str,
    extra: str = "",
    second_orders_key: bool = False,
) -> str:
    """Two APIs behind one operator gateway: one key the gateway checks, one the backend does
    (``extra``: more lines of the gateway entry, e.g. its authorization_server;
    ``second_orders_key``: orders-api also takes ``orders-key-2``, sent by ``audit-bot``)."""
    access_log = op.prefix / "logs" / "workbench-edge.log" if op.kind == "nginx" else op.access_log
    argv = lambda words: "[" + ", ".join(words) + "]"  # noqa: E731
    second_service = second_key = second_integration = ""
    if second_orders_key:
        second_service = (
            "  - {id: audit-bot, owner: team-audit, environment: prod, exposure: internal}\n"
        )
        second_key = (
            '  - {id: orders-key-2, api: orders-api, secret_ref: "file:keys/orders2.key"}\n'
        )
        second_integration = "  - {consumer: audit-bot, key: orders-key-2}\n"
    return f"""version: 1
trust_domain: acme.test
apis:
  - id: orders-api
    url: https://127.0.0.1:{port}/orders-api
    health_path: /health
    data_classes: [pii]
    owner: team-orders
    environment: prod
  - id: billing-api
    url: https://127.0.0.1:{port}/billing/v2
    health_path: /status
    data_classes: [pci]
    owner: team-billing
    environment: prod
services:
  - {{id: shop, owner: team-shop, environment: prod, exposure: internet}}
  - {{id: ledger, owner: team-ledger, environment: prod, exposure: internal}}
{second_service}keys:
  - {{id: orders-key, api: orders-api, secret_ref: "file:keys/orders.key"}}
  - {{id: billing-key, api: billing-api, secret_ref: "env:WBT_BILLING_KEY", checked_by: backend}}
{second_key}integrations:
  - {{consumer: shop, key: orders-key}}
  - {{consumer: ledger, key: billing-key}}
{second_integration}gateways:
  - id: edge
    kind: {op.kind}
    apis: [orders-api, billing-api]
    listen: 127.0.0.1:{port}
    config: {op.owned}
    validate: {argv(op.validate)}
    reload: {argv(op.reload)}
    access_log: {access_log}
    upstreams: {{orders-api: "{orders_backend}", billing-api: "{billing_backend}"}}
{extra}"""


ORDERS_KEY = "ordersGATEWAYkey-0123456789abcdefABC"
ORDERS_KEY_2 = "ordersSECONDkey-0123456789abcdefGHIJ"


@contextlib.contextmanager
def operator_workspace(
    kind: str, root: Path, monkeypatch, *, extra: str = "", second_orders_key: bool = False
):
    """An operator gateway of ``kind`` (nginx or haproxy) with its two backends, and a
    workspace for its inventory, initialised and synced: yields ``(op, ws, port, inventory)``
    and stops it all afterwards. The CA passphrase and billing's key are set in the
    environment; orders' key is a 0600 file next to the inventory."""
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_CA_PASSPHRASE", "test-passphrase-not-secret")
    monkeypatch.setenv("WBT_BILLING_KEY", BILLING_KEY)
    (root / "keys").mkdir(mode=0o700)
    key_file = root / "keys" / "orders.key"
    key_file.write_text(ORDERS_KEY + "\n")
    key_file.chmod(0o600)
    if second_orders_key:
        second = root / "keys" / "orders2.key"
        second.write_text(ORDERS_KEY_2 + "\n")
        second.chmod(0o600)
    op = (OperatorNginx if kind == "nginx" else OperatorHAProxy)(root)
    orders, billing = Backend(), Backend(required_key=BILLING_KEY)
    port = free_port()
    inv = root / "inventory.yaml"
    inv.write_text(
        operator_inventory(
            op,
            port=port,
            orders_backend=orders.url,
            billing_backend=billing.url,
            extra=extra,
            second_orders_key=second_orders_key,
        )
    )
    ws = root / "ws"
    try:
        assert main(["init", str(inv), "--workspace", str(ws)]) == 0
        synced = io.StringIO()
        with contextlib.redirect_stdout(synced):
            code = main(["gateway", "sync", "--workspace", str(ws), "--json"])
        assert code == 0 and json.loads(synced.getvalue())["gateways"] == ["edge"], synced
        yield op, ws, port, inv
    finally:
        op.stop()
        orders.close()
        billing.close()
