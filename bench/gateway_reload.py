"""What does a mode change cost on an operator's nginx fronting 200 APIs?

One run, one real nginx (run the way an operator runs it: its own main config including the
workbench's owned file), 200 APIs behind it:

1. the workbench's mode change (``change_route``): render the owned file and the key maps,
   write them (previous kept), ``nginx -t``, ``nginx -s reload``, confirm the new config id
   is served three times in a row;
2. the baseline: a bare ``nginx -s reload`` of the same config (the command alone);
3. a client loop (fresh TLS connection per request) running through every mode change:
   requests served and requests dropped (must be 0; tests/gateway asserts it too).

Usage: .venv/bin/python bench/gateway_reload.py [--apis 200] [--changes 7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "gateway"))

from operator_support import Backend, OperatorNginx  # noqa: E402  (the tests' helpers)
from testkit import free_port  # noqa: E402

from workbench.cli import main as workbench  # noqa: E402


def inventory(op: OperatorNginx, n: int, port: int, backend: str, keys: Path) -> str:
    apis, svcs, key_lines, ints, ups = [], [], [], [], []
    for i in range(n):
        a = f"api-{i:03d}"
        apis.append(
            f"  - {{id: {a}, url: 'https://127.0.0.1:{port}/{a}', health_path: /health, "
            f"data_classes: [internal], owner: t, environment: prod}}"
        )
        svcs.append(f"  - {{id: svc-{i:03d}, owner: t, environment: prod, exposure: internal}}")
        kf = keys / f"{a}.key"
        kf.write_text(f"benchKEY{i:03d}-{os.urandom(12).hex()}\n")
        kf.chmod(0o600)
        key_lines.append(f"  - {{id: {a}-key, api: {a}, secret_ref: 'file:keys/{a}.key'}}")
        ints.append(f"  - {{consumer: svc-{i:03d}, key: {a}-key}}")
        ups.append(f'{a}: "{backend}"')
    v = ", ".join(op.validate)
    r = ", ".join(op.reload)
    return (
        "version: 1\ntrust_domain: bench.test\napis:\n" + "\n".join(apis)
        + "\nservices:\n" + "\n".join(svcs) + "\nkeys:\n" + "\n".join(key_lines)
        + "\nintegrations:\n" + "\n".join(ints)
        + "\ngateways:\n  - id: edge\n    kind: nginx\n"
        + f"    apis: [{', '.join(f'api-{i:03d}' for i in range(n))}]\n"
        f"    listen: 127.0.0.1:{port}\n    config: {op.owned}\n    validate: [{v}]\n"
        f"    reload: [{r}]\n    access_log: {op.prefix}/logs/edge.log\n"
        f"    upstreams: {{{', '.join(ups)}}}\n"
    )  # fmt: skip


def client_loop(url: str, ca: Path, key: str, stop: threading.Event, out: list) -> None:
    ctx = ssl.create_default_context(cafile=str(ca))
    while not stop.is_set():
        req = urllib.request.Request(url, headers={"X-API-Key": key})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                out.append(resp.status)
        except urllib.error.HTTPError as exc:
            out.append(exc.code)
        except OSError as exc:
            out.append(type(exc).__name__)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--apis", type=int, default=200)
    p.add_argument("--changes", type=int, default=7)
    args = p.parse_args()
    os.environ.setdefault("WORKBENCH_CA_PASSPHRASE", "bench-passphrase")
    from workbench.migration import open_campaign
    from workbench.migration.gateway_ops import gateway_for

    with tempfile.TemporaryDirectory(prefix="wb-bench-gw-") as tmp:
        root = Path(tmp)
        (root / "keys").mkdir(mode=0o700)
        op = OperatorNginx(root)
        backend = Backend()
        port = free_port()
        try:
            inv = root / "inventory.yaml"
            inv.write_text(inventory(op, args.apis, port, backend.url, root / "keys"))
            ws = root / "ws"
            with contextlib.redirect_stdout(io.StringIO()):
                assert workbench(["init", str(inv), "--workspace", str(ws)]) == 0
            with open_campaign(ws) as campaign:
                handle = gateway_for(campaign, "api-000")
                t0 = time.perf_counter()
                handle.push_crls()  # first apply: every route in key mode
                first = time.perf_counter() - t0
                key0 = (root / "keys" / "api-000.key").read_text().strip()
                url = f"https://127.0.0.1:{port}/api-000/health"
                served: list = []
                stop = threading.Event()
                loop = threading.Thread(
                    target=client_loop, args=(url, ws / "ca" / "chain.pem", key0, stop, served)
                )
                loop.start()
                changes, renders = [], []
                try:
                    for i in range(args.changes):
                        api = f"api-{1 + i % (args.apis - 1):03d}"
                        mode = "dual" if handle.current_mode(api) == "key" else "key"
                        t0 = time.perf_counter()
                        handle._render(handle._state())
                        renders.append(time.perf_counter() - t0)
                        t0 = time.perf_counter()
                        handle.change_route(api, mode, (f"{api}-key",), commit=lambda _: None)
                        changes.append(time.perf_counter() - t0)
                finally:
                    stop.set()
                    loop.join(timeout=30)
            bare = []
            for _ in range(args.changes):
                t0 = time.perf_counter()
                subprocess.run(op.reload, check=True, capture_output=True)
                bare.append(time.perf_counter() - t0)
        finally:
            op.stop()
            backend.close()
    change, render, base = (statistics.median(x) * 1000 for x in (changes, renders, bare))
    dropped = [s for s in served if s != 200]
    print(f"gateway with {args.apis} APIs on real nginx, {args.changes} mode changes (medians)")
    print(f"  first apply (all routes)             {first * 1000:8.1f} ms")
    print(f"  mode change: render+write+validate+reload+confirm {change:8.1f} ms")
    print(f"    of which rendering                 {render:8.1f} ms")
    print(f"  bare `nginx -s reload` (baseline)    {base:8.1f} ms")
    print(f"  ratio mode change / bare reload      {change / base:8.1f}x")
    print(f"  client loop during the changes: {len(served)} requests, {len(dropped)} dropped")
    return 1 if dropped else 0


if __name__ == "__main__":
    sys.exit(main())
