"""Process helpers for the gateways and the sample environment: PID files, start, stop, polling.

Processes are started in their own session (so a CLI that exits leaves them running and a
group signal reaches an nginx master's workers) and recorded in a PID file together with a
marker string that must appear in ``/proc/PID/cmdline``: a PID file whose process is gone or
has been reused by something else is stale and gets removed, never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from workbench.errors import GatewayError, WorkbenchError
from workbench.secrets import child_environ

__all__ = [
    "children_of",
    "cmdline",
    "fetch_config_id",
    "free_port",
    "pid_alive",
    "read_pid",
    "start_process",
    "stop_process",
    "wait_until",
]

_STATUS = "/__gateway/config"
_CHILDREN: dict[int, subprocess.Popen] = {}
"""Popen objects of processes this interpreter started, so they are reaped (no zombies)."""


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    error: type[WorkbenchError] = GatewayError,
    interval: float = 0.02,
) -> None:
    """Poll ``predicate`` until true; raise ``error`` naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise error(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)  # polling interval between condition checks, not synchronisation


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now (the kernel's choice); racy by nature, fine for tests."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie; reaps it if it is our finished child."""
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in ("Z", "X"):
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def children_of(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (e.g. an nginx master's workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            out.append(int(entry.name))
    return out


def read_pid(pid_path: Path, marker: str) -> int | None:
    """The live PID recorded in ``pid_path`` whose command line contains ``marker``.

    A stale file (process gone, zombie, or PID reused by another program) is removed.
    """
    try:
        pid = int(pid_path.read_text().strip())
    except (OSError, ValueError):
        if pid_path.exists():
            pid_path.unlink(missing_ok=True)
        return None
    # A child this interpreter started is known for sure (its cmdline can still read empty
    # right after exec); any other PID must show the marker.
    if pid > 1 and pid_alive(pid) and (pid in _CHILDREN or marker.encode() in cmdline(pid)):
        return pid
    pid_path.unlink(missing_ok=True)
    return None


def start_process(
    argv: Sequence[str],
    *,
    pid_path: Path,
    log_path: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``argv`` detached (own session), output to ``log_path``; write ``pid_path``."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    with open(log_path, "ab") as log:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env=child_environ(base=full_env),  # no workbench secrets or old keys (req. 29)
                close_fds=True,
            )
        except OSError as exc:
            raise GatewayError(f"cannot start {argv[0]}: {exc.strerror}") from None
    _CHILDREN[proc.pid] = proc
    tmp = pid_path.with_name(pid_path.name + ".tmp")
    tmp.write_text(f"{proc.pid}\n")
    os.replace(tmp, pid_path)
    return proc.pid


def stop_process(
    pid_path: Path, marker: str, *, sig: int = signal.SIGTERM, timeout: float = 10.0
) -> int | None:
    """Signal the recorded process, wait until it is gone (then SIGKILL its group), clean up.

    Returns the PID that was stopped, or None if nothing was running.
    """
    pid = read_pid(pid_path, marker)
    if pid is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    try:
        wait_until(lambda: not pid_alive(pid), timeout=timeout, what=f"process {pid} to exit")
    except GatewayError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), timeout=5, what=f"process {pid} to die")
    proc = _CHILDREN.pop(pid, None)
    if proc is not None:
        proc.wait()
    pid_path.unlink(missing_ok=True)
    return pid


def fetch_config_id(host: str, port: int, server_cert: str, *, timeout: float = 2.0) -> str | None:
    """Ask a running gateway which config it has loaded (``GET /__gateway/config``).

    The server certificate file itself is the trust anchor (partial chain), so this needs no
    CA and sends no client credentials. None when the gateway does not answer (yet).
    """
    ctx = ssl.create_default_context(cafile=server_cert)
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.check_hostname = False
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw) as tls,
        ):
            request = f"GET {_STATUS} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            tls.sendall(request.encode())
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
    except (OSError, ssl.SSLError):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    return body.strip().decode("ascii", "replace") or None
