"""Run the sample company for real: a backend process and a gateway process in front of it.

``SampleEnv(inventory, state_dir).up(server_cert, server_key, client_ca)`` generates the
static keys (0600, ``state/keys/<key-id>.key``, where the inventory's ``secret_ref`` points),
starts the backend on a kernel-chosen loopback port, and starts the chosen gateway on the
inventory's port (8443 for the sample). ``up`` again is a no-op when everything runs, and
keeps the routes' current modes (cut-over state) unless ``modes`` says otherwise. ``down``
stops every process it started, by PID, and removes the PID files.

With ``token_server=True`` it also runs the OAuth authorization server
(:mod:`workbench.sample_env.authserver`) on a kernel-chosen loopback port with the gateway's
server certificate, and points the gateway at it, so routes can be set to ``mtls+token``
(``adapter.set_mode(api, "mtls+token")``). Its clients are the inventory's services
(client_id = service id, SPIFFE id ``spiffe://<td>/<env>/<service>``); register a service's
issued certificate with :meth:`SampleEnv.register_client` to let it use ``private_key_jwt``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import GatewayError, SampleEnvError, UnsafePathError
from workbench.gateway.adapter import GatewayAdapter, load_gateway, make_gateway
from workbench.gateway.proc import read_pid, start_process, stop_process, wait_until
from workbench.gateway.spec import spec_from_inventory
from workbench.workspace.atomic import atomic_write
from workbench.workspace.paths import check_name, ensure_private_dir

__all__ = ["EnvStatus", "SampleEnv", "inventory_port"]

BACKEND_MARKER = "workbench.sample_env.backend"
AUTH_MODULE = "workbench.sample_env.authserver"
START_TIMEOUT = 15.0


@dataclass(frozen=True)
class EnvStatus:
    """What runs in a sample environment right now."""

    state_dir: str
    """The environment's state directory."""
    gateway: str | None
    """``python`` or ``nginx`` (from the last start), None if never started."""
    port: int | None
    """Gateway port."""
    gateway_pid: int | None
    """PID of the gateway (nginx master) if running."""
    backend_pid: int | None
    """PID of the backend if running."""
    backend_port: int | None
    """Backend loopback port if running."""
    modes: dict[str, str]
    """API id -> current mode."""
    access_log: str | None
    """The gateway's JSON Lines access log."""
    auth_server_pid: int | None = None
    """PID of the authorization server if running."""
    token_url: str | None = None
    """The authorization server's token endpoint (``https://127.0.0.1:PORT/token``) if running."""
    issuer: str | None = None
    """The authorization server's issuer URL (``aud`` of client assertions) if running."""

    @property
    def running(self) -> bool:
        """Both processes run."""
        return self.gateway_pid is not None and self.backend_pid is not None


def inventory_port(inventory: Any) -> int:
    """The single port all API URLs share (8443 for the sample)."""
    ports = set()
    for api in inventory.apis:
        u = urlsplit(api.url)
        ports.add(u.port or (443 if u.scheme == "https" else 80))
    if len(ports) != 1:
        raise SampleEnvError(f"API URLs use ports {sorted(ports)}: the sample env serves one port")
    return ports.pop()


class SampleEnv:
    """Process management for the sample environment (backend + one gateway)."""

    def __init__(
        self,
        inventory: Any,
        state_dir: str | Path | None = None,
        *,
        gateway: str = "python",
        port: int | None = None,
        inventory_dir: str | Path | None = None,
    ) -> None:
        self.inventory = inventory
        if inventory_dir is None:
            if inventory.source:
                inventory_dir = Path(inventory.source).parent
            elif state_dir is not None:
                inventory_dir = Path(state_dir).parent
            else:
                raise SampleEnvError("give state_dir or an inventory loaded from a file")
        self.inventory_dir = Path(inventory_dir).resolve()
        self.state_dir = Path(state_dir) if state_dir else self.inventory_dir / "state"
        self.gateway_name = gateway
        self.port = port if port is not None else inventory_port(inventory)
        self.gateway_dir = self.state_dir / "gateway"
        self.backend_pid_path = self.state_dir / "backend.pid"
        self.backend_port_path = self.state_dir / "backend.port"
        self.backend_marker = str(self.backend_port_path)  # unique per env
        self.auth_dir = self.state_dir / "authserver"
        self.auth_pid_path = self.auth_dir / "authserver.pid"
        self.auth_config_path = self.auth_dir / "authserver.json"
        self.auth_marker = str(self.auth_config_path)
        self.clients_path = self.auth_dir / "clients.json"

    # ---- keys
    def key_path(self, key: Any) -> Path:
        """Where a key's value lives: its ``file:`` secret_ref (inside the inventory dir)."""
        check_name(key.id)
        ref = key.secret_ref or ""
        if ref.startswith("file:"):
            path = (self.inventory_dir / ref[5:]).resolve()
            if not path.is_relative_to(self.inventory_dir):
                raise UnsafePathError(f"key {key.id}: secret_ref leaves {self.inventory_dir}")
            return path
        return self.state_dir.resolve() / "keys" / f"{key.id}.key"

    def ensure_keys(self) -> dict[str, Path]:
        """Create missing key files (token_urlsafe(32), 0600 in 0700 dirs); key id -> path."""
        out = {}
        for key in self.inventory.keys:
            path = self.key_path(key)
            ensure_private_dir(path.parent)
            if not path.exists():
                atomic_write(path, (secrets.token_urlsafe(32) + "\n").encode(), mode=0o600)
            out[key.id] = path
        return out

    # ---- backend
    def _backend_port(self) -> int | None:
        try:
            return int(self.backend_port_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _start_backend(self) -> int:
        pid = read_pid(self.backend_pid_path, self.backend_marker)
        port = self._backend_port()
        if pid is not None and port is not None and _port_open(port):
            return port
        if pid is not None:
            stop_process(self.backend_pid_path, self.backend_marker)
        self.backend_port_path.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            BACKEND_MARKER,
            "--apis",
            ",".join(a.id for a in self.inventory.apis),
            "--port-file",
            str(self.backend_port_path),
        ]
        start_process(argv, pid_path=self.backend_pid_path, log_path=self.state_dir / "backend.log")

        def ready() -> bool:
            if read_pid(self.backend_pid_path, self.backend_marker) is None:
                raise SampleEnvError(f"backend exited: see {self.state_dir / 'backend.log'}")
            p = self._backend_port()
            return p is not None and _port_open(p)

        wait_until(ready, timeout=START_TIMEOUT, what="the backend", error=SampleEnvError)
        return self._backend_port()  # type: ignore[return-value]

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
        td = self.inventory.trust_domain or "example.test"
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
        if pid is not None and ready is not None and _port_open(int(ready["port"])):
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
            return r is not None and _port_open(int(r["port"]))

        wait_until(
            ready_now, timeout=START_TIMEOUT, what="the authorization server", error=SampleEnvError
        )
        return self._auth_ready()  # type: ignore[return-value]

    # ---- gateway
    def current_gateway(self) -> GatewayAdapter | None:
        """The adapter recorded in the state dir, or None."""
        if not (self.gateway_dir / "gateway.json").exists():
            return None
        return load_gateway(self.gateway_dir)

    def up(
        self,
        server_cert: str | Path,
        server_key: str | Path,
        client_ca: str | Path,
        crl: str | Path | None = None,
        modes: dict[str, str] | None = None,
        token_server: bool | None = None,
        token_server_ca: str | Path | None = None,
    ) -> EnvStatus:
        """Start (or keep) backend and gateway; idempotent. Returns the status.

        ``token_server``: run the authorization server too (None: keep it if it runs or a
        route is in ``mtls+token``). ``token_server_ca`` is the CA nginx trusts for its TLS
        certificate (the gateway's own server certificate; default ``client_ca``).
        """
        ensure_private_dir(self.state_dir)
        ensure_private_dir(self.gateway_dir)
        key_files = self.ensure_keys()
        previous = self.current_gateway()
        if previous is not None and previous.is_running() and previous.name != self.gateway_name:
            raise SampleEnvError(
                f"a {previous.name} gateway is running here: run 'workbench sample-env down' first"
            )
        if modes is None and previous is not None:
            modes = {r.api_id: r.mode for r in previous.spec.routes}
        if token_server is None:
            token_server = read_pid(self.auth_pid_path, self.auth_marker) is not None or any(
                m == "mtls+token" for m in (modes or {}).values()
            )
        started_backend = read_pid(self.backend_pid_path, self.backend_marker) is None
        backend_port = self._start_backend()
        try:
            token = None
            if token_server:
                ready = self._start_auth_server(
                    Path(server_cert).resolve(),
                    Path(server_key).resolve(),
                    Path(client_ca).resolve(),
                    Path(crl).resolve() if crl else None,
                )
                token = {
                    "token_issuer": ready["issuer"],
                    "token_jwks": ready["jwks"],
                    "token_introspect_url": f"https://127.0.0.1:{ready['port']}/introspect-bound",
                    "token_server_ca": str(Path(token_server_ca or client_ca).resolve()),
                }
            spec = spec_from_inventory(
                self.inventory,
                port=self.port,
                server_cert=Path(server_cert).resolve(),
                server_key=Path(server_key).resolve(),
                client_ca_bundle=Path(client_ca).resolve(),
                crl_file=Path(crl).resolve() if crl else None,
                backend_url=f"http://127.0.0.1:{backend_port}",
                state_dir=self.gateway_dir.resolve(),
                key_file_of=key_files,
                modes=modes,
                access_log=self.state_dir.resolve() / "access.log",
                token=token,
            )
            make_gateway(self.gateway_name, spec).start()
        except (GatewayError, SampleEnvError):
            if started_backend:
                stop_process(self.backend_pid_path, self.backend_marker)
            raise
        return self.status()

    def down(self) -> list[int]:
        """Stop the gateway and the backend (by PID); returns the PIDs that were stopped."""
        stopped = []
        gw = None
        with contextlib.suppress(GatewayError):
            gw = self.current_gateway()
        if gw is not None:
            pid = gw.stop()
            if pid is not None:
                stopped.append(pid)
        pid = stop_process(self.backend_pid_path, self.backend_marker)
        if pid is not None:
            stopped.append(pid)
        self.backend_port_path.unlink(missing_ok=True)
        pid = stop_process(self.auth_pid_path, self.auth_marker)
        if pid is not None:
            stopped.append(pid)
        (self.auth_dir / "ready.json").unlink(missing_ok=True)
        return stopped

    def status(self) -> EnvStatus:
        """Read PID files (stale ones are removed) and the recorded gateway state."""
        gw = None
        with contextlib.suppress(GatewayError):
            gw = self.current_gateway()
        backend_pid = read_pid(self.backend_pid_path, self.backend_marker)
        auth_pid = read_pid(self.auth_pid_path, self.auth_marker)
        ready = self._auth_ready() if auth_pid else None
        return EnvStatus(
            state_dir=str(self.state_dir),
            gateway=gw.name if gw else None,
            port=gw.spec.port if gw else None,
            gateway_pid=gw.pid() if gw else None,
            backend_pid=backend_pid,
            backend_port=self._backend_port() if backend_pid else None,
            modes={r.api_id: r.mode for r in gw.spec.routes} if gw else {},
            access_log=gw.spec.access_log if gw else None,
            auth_server_pid=auth_pid,
            token_url=f"{ready['issuer']}/token" if ready else None,
            issuer=ready["issuer"] if ready else None,
        )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
