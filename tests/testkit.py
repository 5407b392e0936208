"""Helpers shared by several test areas (on sys.path through pytest's `pythonpath`)."""

from __future__ import annotations

import fcntl
import os
import random
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_env" / "inventory.yaml"

# Ports handed to servers the tests start later (nginx, HAProxy, the lab) come from outside
# the kernel's ephemeral range, so no bind(0) or outgoing connection anywhere on the machine
# can take one between our choice and the server's bind; a lock file per port, held until
# this process exits, keeps every other test process (xdist workers, other checkouts' runs)
# off it. The kernel's bind-then-close choice was not enough: two HAProxies (SO_REUSEPORT)
# given the same port both bind it and the kernel splits connections between them.
_PORT_LOCKS = Path(tempfile.gettempdir()) / f"workbench-test-ports-{os.getuid()}"
_HELD_PORTS: dict[int, int] = {}  # port -> fd of its lock, open for the process's life


def _reserved_range() -> range:
    """Ports below the ephemeral range (or above it when too little room lies below)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low - 10000 >= 4096:
        return range(max(10000, low - 12000), low)
    return range(high + 1, 65536)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def claim_port(port: int) -> bool:
    """Reserve ``port`` for this process if no other process holds it and it binds now."""
    if port in _HELD_PORTS:
        return False
    _PORT_LOCKS.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(_PORT_LOCKS / f"{port}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    if not _bindable(port):
        os.close(fd)
        return False
    _HELD_PORTS[port] = fd
    return True


def free_port() -> int:
    """A port on 127.0.0.1 for a server this test starts: free now, and no other process
    (nor a later call in this one) will be given it while this process runs."""
    ports = _reserved_range()
    start = random.randrange(len(ports))
    for i in range(len(ports)):
        port = ports[(start + i) % len(ports)]
        if claim_port(port):
            return port
    raise RuntimeError(f"no free test port in {ports.start}-{ports.stop - 1}")


def copy_inventory(dst_dir: Path, port: int | None = None) -> Path:
    """The sample inventory in ``dst_dir`` (its keys land in dst_dir/state), on ``port``."""
    text = SAMPLE.read_text()
    if port is not None:
        text = re.sub(r"127\.0\.0\.1:8443", f"127.0.0.1:{port}", text)
    dst = dst_dir / "inventory.yaml"
    dst.write_text(text)
    return dst


def lab_state(workspace: Path) -> Path:
    """The state directory of the lab that belongs to ``workspace`` (modes, logs, PIDs)."""
    from workbench.lab.workspace import lab_state_dir
    from workbench.migration import open_campaign

    with open_campaign(workspace, passphrase=lambda: None) as campaign:
        return lab_state_dir(campaign)


def nginx_available() -> bool:
    return bool(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"))


def gateway_param(name: str):
    """pytest param for a gateway kind; nginx ones carry the nginx marker."""
    if name == "nginx":
        return pytest.param("nginx", marks=pytest.mark.nginx, id="nginx")
    return pytest.param("python", id="python")


def ensure_gateway_available(kind: str) -> None:
    """Fail loudly when nginx is missing (CI installs it), unless WORKBENCH_SKIP_NGINX=1."""
    if kind != "nginx" or nginx_available():
        return
    if os.environ.get("WORKBENCH_SKIP_NGINX") == "1":
        pytest.skip("nginx missing and WORKBENCH_SKIP_NGINX=1")
    pytest.fail(
        "nginx is not installed: apt-get install -y nginx-light (or WORKBENCH_SKIP_NGINX=1)"
    )


def require(program: str, package: str) -> str:
    """The path of ``program``; the test fails (never skips) when it is missing: CI and
    ``make test`` install it (.ci/system-deps --tests)."""
    found = shutil.which(program) or (
        f"/usr/sbin/{program}" if os.path.exists(f"/usr/sbin/{program}") else None
    )
    if found is None:
        pytest.fail(f"{program} is not installed: apt-get install -y {package} (make test does)")
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
