"""How fast does the verifier probe a wave? Fresh mTLS handshakes against loopback.

Runs, in one process and against the same server (nginx when /usr/sbin/nginx exists, else
the Python test server from tests/verify), three loops and prints probes/s:

1. the verifier: a wave of N integrations (3 probes each: new cert, old key, no credentials)
   with ``run_verify_many`` (bounded concurrency, fresh TLS connection per probe);
2. a sequential ``curl`` loop, one process per probe (~100 probes, extrapolated);
3. a raw Python ``ssl`` loop (blocking socket, one handshake + GET per probe): the ceiling.

Goals (2 cores): verifier >= 4x curl and >= 50% of the raw loop.
Usage: .venv/bin/python bench/verify_rate.py [--targets 200] [--concurrency 16] [--python]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "verify"))

from verify_pki import build_pki  # noqa: E402  (the tests' helpers)
from verify_servers import NGINX, start_nginx, start_server  # noqa: E402

from workbench.secrets import SecretValue  # noqa: E402
from workbench.verify import Identities, Target, run_verify_many  # noqa: E402


def probe_commands(pki, url: str, old_key: str) -> list[list[str]]:
    curl = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(pki.ca)]
    return [
        [*curl, "--cert", str(pki.new.chain), "--key", str(pki.new.key), url],
        [*curl, "-H", f"X-API-Key: {old_key}", url],
        [*curl, url],
    ]


def curl_loop(pki, url: str, old_key: str, n: int) -> float:
    cmds = probe_commands(pki, url, old_key)
    t0 = time.perf_counter()
    for i in range(n):
        subprocess.run(cmds[i % 3], capture_output=True, check=True)
    return n / (time.perf_counter() - t0)


def raw_loop(pki, port: int, n: int) -> tuple[float, float]:
    """(wall rate, rate per client CPU-second) of a blocking handshake + GET loop."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca)
    ctx.load_cert_chain(pki.new.chain, pki.new.key)
    req = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(req)
            while tls.recv(65536):
                pass
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--curl-probes", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", action="store_true", help="use the Python server, not nginx")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pki").mkdir(mode=0o700)
        pki = build_pki(work / "pki")
        use_nginx = not args.python and Path(NGINX).exists()
        if use_nginx:
            port, stop = start_nginx(pki, work)
            server = "nginx"
        else:
            running, stop = start_server(pki, "correct")
            port, server = running.port, "python test server"
        old_key = "bench-" + secrets.token_urlsafe(24)  # never printed
        url = f"https://127.0.0.1:{port}/health"
        try:
            ids = Identities(new_cert=pki.new, old_key=SecretValue(old_key), server_ca=pki.ca)
            jobs = [(Target(url, name=f"int-{i}"), ids) for i in range(args.targets)]
            run_verify_many(jobs[:8], concurrency=args.concurrency)  # warm-up
            have_curl = shutil.which("curl") is not None
            rates: dict[str, list[float]] = {"verifier": [], "curl": [], "raw": [], "raw_cpu": []}
            verdicts: set[str] = set()
            # Interleaved rounds: the machine is shared, so each loop sees the same noise.
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                results = run_verify_many(jobs, concurrency=args.concurrency)
                wall = time.perf_counter() - t0
                probes = sum(len(r.verdict.probes) for r in results)
                verdicts |= {r.verdict.verdict for r in results}
                rates["verifier"].append(probes / wall)
                n_curl = max(3, args.curl_probes // args.rounds)
                if have_curl:
                    rates["curl"].append(curl_loop(pki, url, old_key, n_curl))
                wall_rate, cpu_rate = raw_loop(pki, port, 300 // args.rounds)
                rates["raw"].append(wall_rate)
                rates["raw_cpu"].append(cpu_rate)
        finally:
            stop()

    med = {k: statistics.median(v) if v else float("nan") for k, v in rates.items()}
    print(f"server: {server}, 127.0.0.1:{port}, cores: {os.cpu_count()}, rounds: {args.rounds}")
    print(
        f"verifier : {med['verifier']:7.0f} probes/s median "
        f"(each round {args.targets} targets x 3 probes, concurrency {args.concurrency}, "
        f"verdicts {sorted(verdicts)})"
    )
    print(f"curl loop: {med['curl']:7.0f} probes/s median (sequential, one process per probe)")
    print(f"raw ssl  : {med['raw']:7.0f} probes/s median (sequential handshake + GET: ceiling)")
    print(
        f"raw ssl  : {med['raw_cpu']:7.0f} probes per client CPU-second (the CPU-bound ceiling "
        "of one client core)"
    )
    for k, v in rates.items():
        print(f"  {k:8s} rounds: {', '.join(f'{x:.0f}' for x in v)}")
    print(f"verifier / curl = {med['verifier'] / med['curl']:.1f}x (goal >= 4x)")
    print(f"verifier / raw  = {med['verifier'] / med['raw']:.0%} (goal >= 50%)")
    print(f"verifier / raw CPU ceiling = {med['verifier'] / med['raw_cpu']:.0%}")
    ok = (
        verdicts == {"PASS"}
        and med["verifier"] >= 4 * med["curl"]
        and med["verifier"] >= 0.5 * med["raw"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
