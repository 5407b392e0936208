"""The lab's OAuth authorization server as a process: config, clients, start, readiness.

A mixin of :class:`workbench.lab.env.SampleEnv` (which provides ``inventory``, ``auth_dir``,
``auth_pid_path``, ``auth_marker``, ``auth_config_path``, ``clients_path`` and
``trust_domain``), kept apart so each module has one job.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

from workbench.errors import SampleEnvError
from workbench.gateway.proc import read_pid, start_process, stop_process, wait_until
from workbench.workspace.atomic import atomic_write
from workbench.workspace.paths import ensure_private_dir

__all__ = ["AUTH_MODULE", "AuthServerRuntime", "port_open"]

AUTH_MODULE = "workbench.lab.authserver"
START_TIMEOUT = 15.0


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class AuthServerRuntime:
    """Start and describe the lab's authorization server (see the module doc)."""

    inventory: Any
    trust_domain: str
    auth_dir: Path
    auth_pid_path: Path
    auth_marker: str
    auth_config_path: Path
    clients_path: Path

    # ---- authorization server
    def _auth_ready(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.auth_dir / "ready.json").read_text())
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    def _write_clients(self, extra: dict[str, list[str]] | None = None) -> None:
        """Every inventory service as a client; keeps certificates registered before."""
        try:
            old = json.loads(self.clients_path.read_text())["clients"]
        except (OSError, ValueError, KeyError, TypeError):
            old = {}
        td = self.trust_domain
        clients = {}
        for svc in self.inventory.services:
            files = list(old.get(svc.id, {}).get("cert_files", []))
            for f in (extra or {}).get(svc.id, []):
                if f not in files:
                    files.append(f)
            clients[svc.id] = {
                "spiffe_id": f"spiffe://{td}/{svc.environment or 'prod'}/{svc.id}",
                "cert_files": files,
            }
        data = json.dumps({"clients": clients}, indent=1, sort_keys=True).encode()
        atomic_write(self.clients_path, data, mode=0o644, durable=False)

    def register_client(self, client_id: str, cert_files: list[str | Path]) -> None:
        """Register issued certificates of a service: their keys verify its private_key_jwt.

        The running authorization server picks the change up on its next request.
        """
        if client_id not in self.inventory.services_by_id:
            raise SampleEnvError(f"{client_id!r} is not a service of the inventory")
        ensure_private_dir(self.auth_dir)
        self._write_clients({client_id: [str(Path(f).resolve()) for f in cert_files]})

    def _start_auth_server(
        self,
        server_cert: Path,
        server_key: Path,
        client_ca: Path,
        crl: Path | None,
    ) -> dict[str, Any]:
        ensure_private_dir(self.auth_dir)
        self._write_clients()
        config = {
            "listen_host": "127.0.0.1",
            "port": 0,
            "server_cert": str(server_cert),
            "server_key": str(server_key),
            "client_ca_bundle": str(client_ca),
            "crl_file": str(crl) if crl else None,
            "state_dir": str(self.auth_dir.resolve()),
            "clients_file": str(self.clients_path.resolve()),
            "event_log": str(self.auth_dir.resolve() / "events.log"),
            "resources": [a.url for a in self.inventory.apis],
            "token_lifetime": 300,
        }
        pid = read_pid(self.auth_pid_path, self.auth_marker)
        ready = self._auth_ready()
        if pid is not None and ready is not None and port_open(int(ready["port"])):
            try:
                same = json.loads(self.auth_config_path.read_text()) == config
            except (OSError, ValueError):
                same = False
            if same:
                return ready
        if pid is not None:
            stop_process(self.auth_pid_path, self.auth_marker)
        (self.auth_dir / "ready.json").unlink(missing_ok=True)
        atomic_write(self.auth_config_path, json.dumps(config, indent=1).encode(), durable=False)
        argv = [sys.executable, "-m", AUTH_MODULE, "--config", str(self.auth_config_path)]
        start_process(argv, pid_path=self.auth_pid_path, log_path=self.auth_dir / "authserver.log")

        def ready_now() -> bool:
            if read_pid(self.auth_pid_path, self.auth_marker) is None:
                raise SampleEnvError(
                    f"authorization server exited: see {self.auth_dir / 'authserver.log'}"
                )
            r = self._auth_ready()
            return r is not None and port_open(int(r["port"]))

        wait_until(
            ready_now, timeout=START_TIMEOUT, what="the authorization server", error=SampleEnvError
        )
        return self._auth_ready()  # type: ignore[return-value]
