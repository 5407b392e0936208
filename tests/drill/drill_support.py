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


def call_with_cert(
    url: str, ca: Path, chain: Path | None, key: Path | None, *, api_key: str | None = None
) -> str:
    """One request with a client certificate and/or an ``X-API-Key`` (urllib, independent of
    the drill's prober): ``200``, ``403`` ... or the TLS alert reason."""
    ctx = ssl.create_default_context(cafile=str(ca))
    # TLS 1.2: a refused certificate fails the handshake itself, so the alert arrives
    # (under TLS 1.3 urllib often sees only the close after it: ambiguous).
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if chain is not None:
        ctx.load_cert_chain(str(chain), str(key))
    request = urllib.request.Request(url, headers={"X-API-Key": api_key} if api_key else {})
    try:
        with urllib.request.urlopen(request, context=ctx, timeout=5) as resp:
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


CANARY = "spiffe://acme.test/drill/workbench-drill-canary"


def owned_files(inv: Path) -> list[Path]:
    """The owned config the workbench renders for the inventory's first (operator) gateway,
    and every file beside it that it writes (key maps, CN maps, the state)."""
    import yaml

    owned = Path(yaml.safe_load(inv.read_text())["gateways"][0]["config"])
    keys = owned.with_name(owned.name + ".keys")
    return [owned, owned.with_name(owned.name + ".state.json"), *sorted(keys.glob("*"))]


def naming_the_canary(inv: Path) -> list[str]:
    """The owned files that still name the canary identity (or its CN)."""
    return [
        str(p)
        for p in owned_files(inv)
        if "workbench-drill-canary" in p.read_text(errors="replace")
    ]


def canary_audit(ws: Path) -> list[str]:
    """The canary drill's audit actions, in order."""
    from workbench.workspace import Workspace

    with Workspace.open(ws) as w:
        return [r.action for r in w.audit_records() if r.action.startswith("drill.canary_")]


def assert_no_canary_left(ws: Path, inv: Path, before: dict[Path, bytes], urls) -> None:
    """After canary drills, read independently of the drill: no owned file names the canary,
    every owned file but the config (which names the CRL it reads, and its config id changes
    with the CRL) is byte for byte as in ``before``, and the canary's control certificate,
    still valid, gets a 403 at each of ``urls``."""
    from workbench.workspace import Workspace

    assert naming_the_canary(inv) == []
    now = {p: p.read_bytes() for p in owned_files(inv)}
    assert set(now) == set(before)
    changed = {p for p in now if now[p] != before[p]}
    assert {p for p in changed if not p.name.endswith((".conf", ".cfg"))} == set()
    with Workspace.open(ws) as w:
        [control] = w.certificates(service="drill-canary-control", status="active")
    ca = ws / "ca" / "chain.pem"
    assert urls
    for url in urls:
        assert call_with_cert(url, ca, ws / control.chain_path, ws / control.key_path) == "403"
