"""Helpers for the drill tests (imported by name, not conftest)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from testkit import (  # noqa: F401 - re-exported for the tests of this area
    ROOT,
    copy_inventory,
    ensure_gateway_available,
    free_port,
    gateway_param,
    pid_alive,
)

PASSPHRASE = "test-passphrase-not-secret"
GATEWAYS = [gateway_param("python"), gateway_param("nginx")]


def call_with_cert(url: str, ca: Path, chain: Path | None, key: Path | None) -> str:
    """One request with a client certificate (urllib, independent of the drill's prober):
    ``200``, ``403`` ... or the TLS alert reason."""
    ctx = ssl.create_default_context(cafile=str(ca))
    # TLS 1.2: a refused certificate fails the handshake itself, so the alert arrives
    # (under TLS 1.3 urllib often sees only the close after it: ambiguous).
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if chain is not None:
        ctx.load_cert_chain(str(chain), str(key))
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
            return str(resp.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except urllib.error.URLError as exc:
        return getattr(exc.reason, "reason", None) or type(exc.reason).__name__


def cert_files(ws: Path, service: str, status: str = "active"):
    """(chain, key, serial) of the service's newest certificate with ``status``."""
    from workbench.workspace import Workspace

    with Workspace.open(ws) as w:
        certs = [c for c in w.certificates(service=service, status=status) if c.kind == "client"]
    c = certs[-1]
    return ws / c.chain_path, ws / c.key_path, c.serial


def run_json(capsys, argv):
    """Run the CLI with --json: (exit status, parsed stdout or None)."""
    from workbench.cli import main

    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None
