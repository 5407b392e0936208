"""How fast does the verifier run its full matrix? Fresh mTLS handshakes against loopback.

In one process, against the same server (nginx when /usr/sbin/nginx exists, else the Python
test server from tests/verify), it measures:

1. the raw handshake ceiling: the very probe list of one target (every identity, key form,
   method and repeat), sent by a blocking ``ssl`` loop with nothing else around it (no event
   loop, no classification, no evidence): probes per client CPU-second;
2. the verifier: a wave of N targets at the full matrix (2 consumers as controls, the old
   key in 7 forms alone and beside another identity's certificate, no credentials, foreign,
   revoked and other-service certificates, GET and POST, ``--repeat 5``) through
   ``run_verify_many``: probes per client CPU-second and per wall second, and the wall time
   of the whole wave.

Rounds are interleaved (the machine is shared, so each loop sees the same noise) and medians
are printed. Goal: verifier >= 80% of the raw ceiling per CPU-second.
Usage: .venv/bin/python bench/verify_rate.py [--targets 200] [--concurrency 16] [--python]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # testca, testkit: the tests' CA and ports
sys.path.insert(0, str(ROOT / "tests" / "verify"))

from verify_pki import build_pki  # noqa: E402  (the tests' helpers)
from verify_servers import NGINX, start_nginx, start_server  # noqa: E402

from workbench.secrets import SecretValue  # noqa: E402
from workbench.states import Verdict  # noqa: E402
from workbench.verify import Identities, Options, Target, run_verify_many  # noqa: E402
from workbench.verify.engine import prepare  # noqa: E402


def raw_loop(specs, port: int, rounds_of_specs: int) -> tuple[float, float, int]:
    """(probes per wall second, per client CPU-second, probes) of a blocking loop sending
    the same requests with the same contexts, reading each answer to the end."""
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(rounds_of_specs):
        for spec in specs:
            headers = f"Host: 127.0.0.1:{port}\r\nUser-Agent: raw\r\nConnection: close\r\n"
            path = spec.path
            if spec.form is not None and spec.secret is not None:
                value = spec.secret.reveal()
                if spec.form.where == "header":
                    headers += f"{spec.form.name}: {spec.form.header_value(value)}\r\n"
                else:
                    path = spec.form.wire_path(path, value)
            if spec.method == "POST":
                headers += "Content-Length: 0\r\n"
            req = f"{spec.method} {path} HTTP/1.1\r\n{headers}\r\n".encode()
            try:
                with (
                    socket.create_connection(("127.0.0.1", port)) as raw,
                    spec.context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
                ):
                    tls.sendall(req)
                    while tls.recv(65536):
                        pass
            except (ssl.SSLError, OSError):
                pass  # a refusal: the work (handshake, alert) was done all the same
            n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n / wall, n / cpu, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=200, help="steps in the wave (default 200)")
    ap.add_argument("--concurrency", type=int, default=16, help="probes in flight (default 16)")
    ap.add_argument("--repeat", type=int, default=5, help="repeats per negative (default 5)")
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
        ids = Identities(
            new_cert=pki.new,
            more_controls=(pki.second,),
            old_key=SecretValue(old_key),
            server_ca=pki.ca,
            revoked_cert=pki.revoked,
            other_service_cert=pki.other,
        )
        options = Options(repeat=args.repeat, concurrency=args.concurrency, timeout=10)
        specs = prepare(ids, "X-API-Key", "/health", repeat=args.repeat)
        try:
            jobs = [(Target(url, name=f"step-{i}"), ids) for i in range(args.targets)]
            run_verify_many(jobs[:2], options=options)  # warm-up (contexts, look-alike CA)
            rates: dict[str, list[float]] = {"raw_cpu": [], "raw_wall": [], "cpu": [], "wall": []}
            waves: list[float] = []
            verdicts: set[str] = set()
            probes = 0
            for _ in range(args.rounds):
                w, c, _ = raw_loop(specs, port, max(1, 600 // len(specs)))
                rates["raw_wall"].append(w)
                rates["raw_cpu"].append(c)
                t0, c0 = time.perf_counter(), time.process_time()
                results = run_verify_many(jobs, options=options)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                probes = sum(len(r.verdict.probes) for r in results)
                verdicts |= {r.verdict.verdict.value for r in results}  # text: printed below
                rates["wall"].append(probes / wall)
                rates["cpu"].append(probes / cpu)
                waves.append(wall)
        finally:
            stop()

    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["cpu"] / med["raw_cpu"]
    print(f"server: {server}, 127.0.0.1:{port}, cores: {os.cpu_count()}, rounds: {args.rounds}")
    print(
        f"matrix  : {len(specs)} probes per target ({probes // max(1, args.targets)} run), "
        f"repeat {args.repeat}, concurrency {args.concurrency}"
    )
    print(f"raw ssl : {med['raw_cpu']:7.0f} probes per client CPU-second (the ceiling)")
    print(f"raw ssl : {med['raw_wall']:7.0f} probes/s wall (sequential)")
    print(f"verifier: {med['cpu']:7.0f} probes per client CPU-second")
    print(f"verifier: {med['wall']:7.0f} probes/s wall (verdicts {sorted(verdicts)})")
    print(
        f"wave    : {args.targets} steps, {probes} probes in {statistics.median(waves):.1f} s "
        f"wall (median; rounds {', '.join(f'{w:.1f}' for w in waves)})"
    )
    for k, v in rates.items():
        print(f"  {k:8s} rounds: {', '.join(f'{x:.0f}' for x in v)}")
    print(f"verifier / raw ceiling per CPU-second = {ratio:.0%} (goal >= 80%)")
    return 0 if verdicts == {Verdict.PASS} and ratio >= 0.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
