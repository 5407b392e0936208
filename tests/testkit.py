"""Helpers shared by several test areas (on sys.path through pytest's `pythonpath`)."""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_env" / "inventory.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
