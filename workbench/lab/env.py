"""Run the sample company for real: a backend process and gateway processes in front of it.

``SampleEnv(inventory, state_dir).up(server_cert, server_key, client_ca)`` makes sure every
key has a value the gateway and the workbench agree on (:meth:`SampleEnv.ensure_keys`: a
``secret_ref`` that resolves is used as it is; a missing ``file:`` is generated where it
points; an unset ``env:`` gets a generated value whose file :attr:`EnvStatus.exports` names),
starts the backend on a kernel-chosen loopback port, and one gateway per port the APIs' URLs
use (8443 for the sample). ``up`` again is a no-op when everything runs, and keeps the
routes' current modes (cut-over state) unless ``modes`` says otherwise. ``down`` stops every
process it started, by PID, and removes the PID files.

The state directory belongs to one workspace (see :mod:`workbench.lab.workspace`): a second
workspace on the same inventory gets its own, in ``key`` mode with an empty access log.

With ``token_server=True`` it also runs the OAuth authorization server
(:mod:`workbench.lab.authserver`) on a kernel-chosen loopback port with the gateway's
server certificate, and points the gateway at it, so routes can be set to ``mtls+token``
(``adapter.set_mode(api, "mtls+token")``). Its clients are the inventory's services
(client_id = service id, SPIFFE id ``spiffe://<td>/<env>/<service>``); register a service's
issued certificate with :meth:`SampleEnv.register_client` to let it use ``private_key_jwt``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import GatewayError, SampleEnvError, UnsafePathError
from workbench.gateway.adapter import GatewayAdapter, load_gateway, make_gateway
from workbench.gateway.proc import read_pid, start_process, stop_process, wait_until
from workbench.gateway.spec import api_path_prefix, spec_from_inventory
from workbench.inventory.model import DEFAULT_TRUST_DOMAIN
from workbench.lab.auth_runtime import AuthServerRuntime, port_open
from workbench.secrets import SecretRefError, resolve_secret_ref
from workbench.states import GatewayMode
from workbench.workspace.atomic import atomic_write
from workbench.workspace.paths import check_name, ensure_private_dir

__all__ = ["EnvStatus", "SampleEnv", "inventory_port"]

BACKEND_MARKER = "workbench.lab.backend"
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
    gateways: tuple[tuple[int, int | None], ...] = ()
    """(port, PID or None) of every gateway (one per port the inventory's URLs use)."""
    exports: tuple[tuple[str, str, str], ...] = ()
    """(key id, variable, file) for ``env:`` refs that were unset: the lab generated a value
    into the file; ``export VARIABLE="$(cat FILE)"`` lets the workbench probe with it."""

    @property
    def running(self) -> bool:
        """The backend and every gateway run."""
        return (
            self.gateway_pid is not None
            and self.backend_pid is not None
            and all(pid is not None for _, pid in self.gateways)
        )


def api_port(api: Any) -> int:
    u = urlsplit(api.url)
    return u.port or (443 if u.scheme == "https" else 80)


def inventory_ports(inventory: Any) -> list[int]:
    """The ports the APIs' URLs use, in order of first use (the lab runs a gateway on each)."""
    return list(dict.fromkeys(api_port(a) for a in inventory.apis))


def inventory_port(inventory: Any) -> int:
    """The first port the API URLs use (8443 for the sample)."""
    ports = inventory_ports(inventory)
    if not ports:
        raise SampleEnvError("the inventory has no APIs: nothing for the lab to serve")
    return ports[0]


class SampleEnv(AuthServerRuntime):
    """Process management for the sample environment (backend + gateways + token server)."""

    def __init__(
        self,
        inventory: Any,
        state_dir: str | Path | None = None,
        *,
        gateway: str = "python",
        port: int | None = None,
        inventory_dir: str | Path | None = None,
        trust_domain: str | None = None,
        environ: Any = None,
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
        self.trust_domain = trust_domain or inventory.trust_domain or DEFAULT_TRUST_DOMAIN
        self.environ = environ  # None: os.environ (where the workbench resolves env: refs too)
        ports = inventory_ports(inventory)
        if port is not None and len(ports) > 1:
            raise SampleEnvError(
                f"the APIs use ports {ports}: --port can only move a single-port inventory"
            )
        self.port = port if port is not None else inventory_port(inventory)
        # inventory port -> port actually served (differs only with an explicit --port)
        self.ports = {ports[0]: self.port} if port is not None else {p: p for p in ports}
        self.gateway_dir = self.state_dir / "gateway"
        self.keys_dir = self.state_dir / "keys"
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
        """The file the lab gateway reads a key's value from.

        ``file:`` refs: the referenced file itself (inside the inventory dir). ``env:`` refs
        and keys without a ref: ``<state>/keys/<key-id>.key`` (0600), holding the variable's
        value when it is set, else a generated one."""
        check_name(key.id)
        ref = key.secret_ref or ""
        if ref.startswith("file:"):
            path = (self.inventory_dir / ref[5:]).resolve()
            if not path.is_relative_to(self.inventory_dir):
                raise UnsafePathError(f"key {key.id}: secret_ref leaves {self.inventory_dir}")
            return path
        return self.keys_dir.resolve() / f"{key.id}.key"

    def ensure_keys(self) -> dict[str, Path]:
        """Give every key a value the gateway and the workbench share; key id -> file.

        A reference that resolves is used as it is (the gateway accepts exactly what the
        workbench will probe with). A missing ``file:`` gets a generated value where it points
        (so the workbench resolves it too). An unset ``env:`` gets a generated value in the
        lab's key file and is listed by :meth:`unset_env_refs` (what to export)."""
        env = os.environ if self.environ is None else self.environ
        out = {}
        for key in self.inventory.keys:
            path = self.key_path(key)
            ensure_private_dir(path.parent)
            ref = key.secret_ref or ""
            if ref.startswith("env:") and ref[4:] in env:
                value = resolve_secret_ref(ref, self.inventory_dir, environ=env).reveal()
                current = path.read_text().strip() if path.exists() else None
                if current != value:
                    atomic_write(path, (value + "\n").encode(), mode=0o600)
            elif not path.exists():
                atomic_write(path, (secrets.token_urlsafe(32) + "\n").encode(), mode=0o600)
            elif ref.startswith("file:"):
                try:
                    resolve_secret_ref(ref, self.inventory_dir, environ=env)
                except SecretRefError as exc:
                    raise SampleEnvError(f"key {key.id}: {exc}") from None
            out[key.id] = path
        return out

    def unset_env_refs(self) -> tuple[tuple[str, str, str], ...]:
        """(key id, variable, file) of ``env:`` refs not set: the lab serves the generated
        value in the file; export the variable from it so the workbench probes the same."""
        env = os.environ if self.environ is None else self.environ
        out = []
        for key in self.inventory.keys:
            ref = key.secret_ref or ""
            if ref.startswith("env:") and ref[4:] not in env:
                out.append((key.id, ref[4:], str(self.key_path(key))))
        return tuple(out)

    # ---- backend
    def _backend_port(self) -> int | None:
        try:
            return int(self.backend_port_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _start_backend(self) -> int:
        pid = read_pid(self.backend_pid_path, self.backend_marker)
        port = self._backend_port()
        if pid is not None and port is not None and port_open(port):
            return port
        if pid is not None:
            stop_process(self.backend_pid_path, self.backend_marker)
        self.backend_port_path.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            BACKEND_MARKER,
            "--apis",
            json.dumps(
                [
                    {"id": a.id, "prefix": api_path_prefix(a.url), "health": a.health_path}
                    for a in self.inventory.apis
                ]
            ),
            "--port-file",
            str(self.backend_port_path),
        ]
        start_process(argv, pid_path=self.backend_pid_path, log_path=self.state_dir / "backend.log")

        def ready() -> bool:
            if read_pid(self.backend_pid_path, self.backend_marker) is None:
                raise SampleEnvError(f"backend exited: see {self.state_dir / 'backend.log'}")
            p = self._backend_port()
            return p is not None and port_open(p)

        wait_until(ready, timeout=START_TIMEOUT, what="the backend", error=SampleEnvError)
        return self._backend_port()  # type: ignore[return-value]

    # ---- gateways (one per port)
    def gateway_dir_for(self, inventory_port: int) -> Path:
        """The first port's gateway lives in ``gateway/``, any other in ``gateway-<port>/``."""
        first = next(iter(self.ports))
        return (
            self.gateway_dir
            if inventory_port == first
            else (self.state_dir / f"gateway-{inventory_port}")
        )

    def gateways(self) -> dict[int, GatewayAdapter]:
        """inventory port -> the adapter recorded for it (ports never started are left out)."""
        out = {}
        for p in self.ports:
            d = self.gateway_dir_for(p)
            if (d / "gateway.json").exists():
                out[p] = load_gateway(d)
        return out

    def gateway_of(self, api_id: str) -> GatewayAdapter | None:
        """The adapter serving ``api_id``, or None when its gateway never ran."""
        api = self.inventory.api(api_id)
        return self.gateways().get(api_port(api))

    def current_gateway(self) -> GatewayAdapter | None:
        """The first port's adapter (the only one for a single-port inventory), or None."""
        return self.gateways().get(next(iter(self.ports)))

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
        """Start (or keep) backend and gateways; idempotent. Returns the status.

        ``token_server``: run the authorization server too (None: keep it if it runs or a
        route is in ``mtls+token``). ``token_server_ca`` is the CA nginx trusts for its TLS
        certificate (the gateway's own server certificate; default ``client_ca``).
        """
        ensure_private_dir(self.state_dir)
        key_files = self.ensure_keys()
        previous = self.gateways()
        for gw in previous.values():
            if gw.is_running() and gw.name != self.gateway_name:
                raise SampleEnvError(
                    f"a {gw.name} gateway is running here: run 'workbench sample-env down' first"
                )
        kept_keys: dict[str, tuple[str, ...]] = {}
        if modes is None and previous:
            routes = [r for gw in previous.values() for r in gw.spec.routes]
            modes = {r.api_id: r.mode for r in routes}
            # And the keys each route still takes: a cut-over retires one key of an API that
            # stays dual for its other keys, which a restart must not bring back.
            kept_keys = {r.api_id: r.key_files for r in routes}
        if token_server is None:
            token_server = read_pid(self.auth_pid_path, self.auth_marker) is not None or any(
                m == GatewayMode.MTLS_TOKEN for m in (modes or {}).values()
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
            for inv_port, port in self.ports.items():
                gw_dir = self.gateway_dir_for(inv_port)
                ensure_private_dir(gw_dir)
                apis = [a for a in self.inventory.apis if api_port(a) == inv_port]
                spec = spec_from_inventory(
                    self.inventory,
                    port=port,
                    server_cert=Path(server_cert).resolve(),
                    server_key=Path(server_key).resolve(),
                    client_ca_bundle=Path(client_ca).resolve(),
                    crl_file=Path(crl).resolve() if crl else None,
                    backend_url=f"http://127.0.0.1:{backend_port}",
                    state_dir=gw_dir.resolve(),
                    key_file_of=key_files,
                    modes={a.id: m for a, m in ((a, (modes or {}).get(a.id)) for a in apis) if m},
                    access_log=self.state_dir.resolve() / "access.log",
                    token=token,
                    apis=apis,
                    trust_domain=self.trust_domain,
                )
                routes = tuple(
                    replace(r, key_files=kept_keys.get(r.api_id, r.key_files)) for r in spec.routes
                )
                gw = make_gateway(self.gateway_name, replace(spec, routes=routes))
                if not gw.is_running() and port_open(port):
                    raise SampleEnvError(
                        f"port {port} is in use by another process (another workspace's lab? "
                        "run `workbench sample-env down --workspace THAT`), or pick --port"
                    )
                gw.start()
        except (GatewayError, SampleEnvError):
            if started_backend:
                self.down()
            raise
        return self.status()

    def down(self) -> list[int]:
        """Stop the gateways and the backend (by PID); returns the PIDs that were stopped."""
        stopped = []
        gws: dict[int, GatewayAdapter] = {}
        with contextlib.suppress(GatewayError):
            gws = self.gateways()
        for gw in gws.values():
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
        gws: dict[int, GatewayAdapter] = {}
        with contextlib.suppress(GatewayError):
            gws = self.gateways()
        gw = gws.get(next(iter(self.ports))) if gws else None
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
            modes={r.api_id: r.mode for g in gws.values() for r in g.spec.routes},
            access_log=gw.spec.access_log if gw else None,
            auth_server_pid=auth_pid,
            token_url=f"{ready['issuer']}/token" if ready else None,
            issuer=ready["issuer"] if ready else None,
            gateways=tuple((g.spec.port, g.pid()) for g in gws.values()),
            exports=self.unset_env_refs(),
        )
