"""One interface over both gateways: render, validate, apply (atomic write + reload), run.

``set_mode`` is the cut-over primitive: render the spec with one route's mode changed, check
it, write it atomically, reload gracefully, wait until the running gateway reports the new
config id, then call ``audit(api, from_mode, to_mode, sha256)``. If ``audit`` raises, the
previous config is applied again and the error propagates (req. 25: no unaudited change).

Files under ``spec.state_dir``: ``gateway.json`` (kind + spec, no secrets), ``gateway.pid``,
``gateway.log`` (stderr), and the config (``pyref.json``, or ``nginx/nginx.conf`` 0600).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from workbench.errors import GatewayError
from workbench.gateway import nginx as _nginx
from workbench.gateway.authz import read_route_keys
from workbench.gateway.proc import (
    children_of,
    cmdline,
    fetch_config_id,
    pid_alive,
    read_pid,
    start_process,
    stop_process,
    wait_until,
)
from workbench.gateway.pyref import load_state
from workbench.gateway.spec import GatewaySpec, RenderedConfig
from workbench.workspace.atomic import atomic_write

__all__ = [
    "GATEWAYS",
    "AuditCallback",
    "GatewayAdapter",
    "NginxGateway",
    "PythonGateway",
    "load_gateway",
    "make_gateway",
]

GATEWAYS = ("python", "nginx")
AuditCallback = Callable[[str, str, str, str], None]
"""``audit(api_id, from_mode, to_mode, config_sha256)``; raising rolls the change back."""

READY_TIMEOUT = 15.0


class GatewayAdapter(Protocol):
    """What the workbench needs from a gateway."""

    name: str
    spec: GatewaySpec

    def render(self, spec: GatewaySpec) -> RenderedConfig: ...
    def validate(self, rendered: RenderedConfig) -> None: ...
    def apply(self, rendered: RenderedConfig) -> None: ...
    def start(self) -> int: ...
    def stop(self) -> int | None: ...
    def is_running(self) -> bool: ...
    def pid(self) -> int | None: ...
    def set_mode(
        self, api_id: str, mode: str, *, audit: AuditCallback | None = None
    ) -> RenderedConfig: ...


class _Base:
    name = "base"
    stop_signal = signal.SIGTERM

    def __init__(self, spec: GatewaySpec) -> None:
        self.spec = spec
        self.state_dir = Path(spec.state_dir)
        self.pid_path = self.state_dir / "gateway.pid"
        self.log_path = self.state_dir / "gateway.log"

    # -- subclass hooks
    config_path: Path
    marker: str

    def render(self, spec: GatewaySpec) -> RenderedConfig:
        raise NotImplementedError

    def validate(self, rendered: RenderedConfig) -> None:
        raise NotImplementedError

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return {}

    # -- shared
    def _prepare_dirs(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.state_dir, 0o700)

    def _write(self, rendered: RenderedConfig) -> None:
        self._prepare_dirs()
        mode = 0o600 if rendered.secret else 0o644
        atomic_write(self.config_path, rendered.content, mode=mode, durable=False)
        record = {"gateway": self.name, "spec": json.loads(self.spec.to_json())}
        atomic_write(
            self.state_dir / "gateway.json",
            json.dumps(record, indent=1).encode(),
            mode=0o644,
            durable=False,
        )

    def pid(self) -> int | None:
        return read_pid(self.pid_path, self.marker)

    def is_running(self) -> bool:
        return self.pid() is not None

    def loaded_config_id(self) -> str | None:
        return fetch_config_id(self.spec.listen_host, self.spec.port, self.spec.server_cert)

    def _wait_loaded(self, config_id: str, what: str) -> None:
        def ready() -> bool:
            if not self.is_running():
                raise GatewayError(f"{self.name} gateway exited: see {self.log_path}")
            return self.loaded_config_id() == config_id

        wait_until(ready, timeout=READY_TIMEOUT, what=f"the {self.name} gateway to {what}")

    def apply(self, rendered: RenderedConfig) -> None:
        """Write the config atomically; if running, reload gracefully and wait for it."""
        self._write(rendered)
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGHUP)
            self._wait_loaded(rendered.config_id, "load the new config")

    def start(self) -> int:
        """Start (or find running) and wait until it serves the current spec. Returns the PID."""
        rendered = self.render(self.spec)
        self.validate(rendered)
        pid = self.pid()
        if pid is not None:
            if self.loaded_config_id() != rendered.config_id:
                self.apply(rendered)
            return pid
        self._write(rendered)
        pid = start_process(
            self._argv(), pid_path=self.pid_path, log_path=self.log_path, env=self._env()
        )
        try:
            self._wait_loaded(rendered.config_id, "start")
        except GatewayError:
            self.stop()
            raise
        return pid

    def stop(self) -> int | None:
        """Stop the recorded process (graceful signal, then wait). Returns its PID or None."""
        return stop_process(self.pid_path, self.marker, sig=self.stop_signal)

    def set_mode(
        self, api_id: str, mode: str, *, audit: AuditCallback | None = None
    ) -> RenderedConfig:
        """Change one route's mode, reload, audit; roll back if the audit fails."""
        old_spec = self.spec
        from_mode = old_spec.route(api_id).mode
        new_spec = old_spec.with_mode(api_id, mode)
        new = self.render(new_spec)
        self.validate(new)
        old = self.render(old_spec)
        self.spec = new_spec
        try:
            self.apply(new)
            if audit is not None:
                audit(api_id, from_mode, mode, new.sha256)
        except BaseException:
            self.spec = old_spec
            self.apply(old)
            raise
        return new


class PythonGateway(_Base):
    """The embedded reference gateway (:mod:`workbench.gateway.pyref`) as a child process."""

    name = "python"

    def __init__(self, spec: GatewaySpec, *, python: str | None = None) -> None:
        super().__init__(spec)
        self.python = python or sys.executable
        self.config_path = self.state_dir / "pyref.json"
        self.marker = str(self.config_path)

    def render(self, spec: GatewaySpec) -> RenderedConfig:
        import hashlib

        content = spec.to_json().encode()
        sha = hashlib.sha256(content).hexdigest()
        return RenderedConfig(content=content, sha256=sha, config_id=sha, secret=False)

    def validate(self, rendered: RenderedConfig) -> None:
        self._prepare_dirs()
        tmp = self.state_dir / f".pyref-check-{os.getpid()}.json"
        try:
            atomic_write(tmp, rendered.content, mode=0o600, durable=False)
            load_state(tmp)
        finally:
            tmp.unlink(missing_ok=True)

    def _argv(self) -> list[str]:
        return [self.python, "-m", "workbench.gateway.pyref", "--config", str(self.config_path)]


class NginxGateway(_Base):
    """Real nginx from its own prefix directory (``daemon off``; SIGHUP reload, SIGQUIT stop)."""

    name = "nginx"
    stop_signal = signal.SIGQUIT

    def __init__(self, spec: GatewaySpec, *, nginx: str | None = None) -> None:
        super().__init__(spec)
        self.nginx = nginx or _nginx.find_nginx()
        self.prefix = self.state_dir / "nginx"
        self.config_path = self.prefix / "nginx.conf"
        self.marker = str(self.prefix)

    def _prepare_dirs(self) -> None:
        super()._prepare_dirs()
        for d in (self.prefix, self.prefix / "tmp", self.prefix / "logs"):
            d.mkdir(exist_ok=True, mode=0o700)
            os.chmod(d, 0o700)

    def render(self, spec: GatewaySpec) -> RenderedConfig:
        return _nginx.render_nginx(spec, prefix=self.prefix)

    def validate(self, rendered: RenderedConfig) -> None:
        self._prepare_dirs()
        tmp = self.prefix / f".check-{os.getpid()}.conf"
        secrets = [v for r in self.spec.routes for v in read_route_keys(r)]
        try:
            atomic_write(tmp, rendered.content, mode=0o600, durable=False)
            _nginx.nginx_test(self.nginx, self.prefix, tmp, secrets=secrets)
        finally:
            tmp.unlink(missing_ok=True)

    def apply(self, rendered: RenderedConfig) -> None:
        """Write, SIGHUP, and wait until the new config answers AND every old worker has
        stopped accepting (gone, or titled "shutting down"): until then a new connection can
        still land on an old worker and see the old modes."""
        self._write(rendered)
        pid = self.pid()
        if pid is None:
            return
        old_workers = children_of(pid)
        os.kill(pid, signal.SIGHUP)
        self._wait_loaded(rendered.config_id, "load the new config")

        def old_quiet() -> bool:
            return all(not pid_alive(w) or b"shutting down" in cmdline(w) for w in old_workers)

        wait_until(old_quiet, timeout=READY_TIMEOUT, what="old nginx workers to stop accepting")

    def _argv(self) -> list[str]:
        return [self.nginx, "-p", str(self.prefix), "-c", str(self.config_path), "-e", "stderr"]

    def _env(self) -> dict[str, str]:
        return {"TZ": "UTC"}  # $time_iso8601 in UTC, like the Python gateway's log


def make_gateway(name: str, spec: GatewaySpec) -> GatewayAdapter:
    """``python`` or ``nginx``."""
    if name == "python":
        return PythonGateway(spec)
    if name == "nginx":
        return NginxGateway(spec)
    raise GatewayError(f"unknown gateway {name!r}: use one of {', '.join(GATEWAYS)}")


def load_gateway(state_dir: str | Path) -> GatewayAdapter:
    """The adapter last applied in ``state_dir`` (from its ``gateway.json``)."""
    path = Path(state_dir) / "gateway.json"
    try:
        record = json.loads(path.read_text())
        name = record["gateway"]
        spec = GatewaySpec.from_json(json.dumps(record["spec"]), source=str(path))
    except (OSError, ValueError, KeyError, TypeError):
        raise GatewayError(f"{path}: no gateway state here: start the gateway first") from None
    return make_gateway(name, spec)
