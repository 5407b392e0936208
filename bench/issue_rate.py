"""How fast does the workbench issue client certificates into a workspace?

Issue "PKI and workspace". Runs, in one process, three loops and prints certs/s:

1. the workbench: ``issue_step`` for one key consumed by N services (default 2,000) into a
   fresh workspace: EC P-256 key, certificate and chain files (key 0600), certificate rows,
   hash-chained audit records (database + audit.jsonl) and the step state, with the
   durability the workspace gives (``ensure_certificates``: files created under their
   serial names, one file-system flush for the step, then one transaction).
   PKCS#12 bundles are excluded (WORKBENCH_P12_PASSWORD unset): their KDF is slow on purpose.
   ``init`` (inventory, plan, CA) is outside the timing;
2. the raw ``cryptography`` loop: EC P-256 key + a leaf with the same extensions signed by an
   EC P-256 CA + key and cert PEM, in memory, no files, no state: the ceiling;
3. an ``openssl req | openssl x509`` loop in a shell script, two processes per certificate,
   as migration scripts do it (default 100 certificates, extrapolated).

Goals (2 cores): workbench >= 40% of the raw loop and >= 20x the openssl loop.

Reading the figures: "kernel" CPU per certificate is mostly the file system (a directory and
three files created). On this VM's ext4 (perf: ``recently_deleted`` in
``find_inode_bit``) creating an inode scans past inodes freed in the last seconds to minutes,
so right after bulk deletions (a test run, the previous run of this benchmark) it costs
0.2-0.8 ms instead of ~20 us: compare runs by their "user" figure, and rerun when quiet.
Usage: .venv/bin/python bench/issue_rate.py [--services 2000] [--openssl 100] [--raw 2000]
       [--dir DIR] [--profile FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

from workbench.migration.campaign import open_campaign  # noqa: E402
from workbench.migration.issuance import P12_PASSWORD_ENV, issue_step  # noqa: E402
from workbench.migration.setup import init_workspace  # noqa: E402

KEY_ID = "bench-key"
TRUST_DOMAIN = "bench.test"
PASSPHRASE = "bench-passphrase-not-a-secret"  # noqa: S105 (a throwaway CA in a temp dir)
GOAL_RAW_SHARE = 0.40
GOAL_OPENSSL_FACTOR = 20.0


# --- the workbench ---------------------------------------------------------------------


def write_inventory(directory: Path, services: int) -> Path:
    """One API, one key, ``services`` consumers of that key (svc-00001, ...)."""
    lines = [
        "version: 1",
        f"trust_domain: {TRUST_DOMAIN}",
        "apis:",
        "  - id: bench-api",
        "    url: https://127.0.0.1:8443/bench-api",
        "    health_path: /health",
        "    data_classes: [internal]",
        "    owner: team-bench",
        "    environment: prod",
        "services:",
    ]
    ids = [f"svc-{i:05d}" for i in range(1, services + 1)]
    for sid in ids:
        lines += [
            f"  - id: {sid}",
            "    owner: team-bench",
            "    environment: prod",
            "    exposure: internal",
        ]
    lines += [
        "keys:",
        f"  - id: {KEY_ID}",
        "    api: bench-api",
        "    header: X-API-Key",
        "    secret_ref: file:keys/k.key",
        "    created: 2024-01-01",
        "integrations:",
    ]
    lines += [f"  - {{consumer: {sid}, key: {KEY_ID}}}" for sid in ids]
    path = directory / "inventory.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workbench_run(services: int, work: Path, *, profile: Path | None = None) -> dict:
    """Init a workspace (untimed), then time ``issue_step`` for every service; verify."""
    inv = write_inventory(work, services)
    ws_dir = work / "ws"
    t0 = time.perf_counter()
    init_workspace(inv, ws_dir, passphrase=PASSPHRASE, kdf_rounds=1)
    init_s = time.perf_counter() - t0
    os.environ.pop(P12_PASSWORD_ENV, None)
    with open_campaign(ws_dir, passphrase=lambda: PASSPHRASE) as campaign:
        campaign.ca()  # load the CA (one KDF run) outside the timing, as init does
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0, c0 = time.perf_counter(), os.times()
        outcome = issue_step(campaign, KEY_ID)
        wall, c1 = time.perf_counter() - t0, os.times()
        user, system = c1.user - c0.user, c1.system - c0.system
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        check = verify_workspace(campaign, services)
    if len(outcome.issued) != services:
        raise SystemExit(f"issued {len(outcome.issued)} certificates, expected {services}")
    return {
        "certs": services,
        "seconds": wall,
        "rate": services / wall,
        "cpu_rate": services / (user + system) if user + system else None,
        "user_us_per_cert": user / services * 1e6,
        "kernel_us_per_cert": system / services * 1e6,
        "init_seconds": init_s,
        "state": outcome.state,
        **check,
    }


def verify_workspace(campaign, services: int) -> dict:
    """2,000 active certificates, files present, keys 0600 in 0700 dirs, audit intact."""
    from workbench.workspace.audit import verify_audit

    ws = campaign.workspace
    active = ws.active_certificates(step=KEY_ID)
    if len(active) != services or len({c.service for c in active}) != services:
        raise SystemExit(f"{len(active)} active certificates, expected {services} distinct")
    picks = [active[0], active[len(active) // 2], active[-1]]
    for rec in picks:
        key = ws.directory / rec.key_path
        for rel in (rec.cert_path, rec.key_path, rec.chain_path):
            if not (ws.directory / rel).is_file():
                raise SystemExit(f"missing file {rel}")
        key_mode = stat.S_IMODE(os.lstat(key).st_mode)
        dir_mode = stat.S_IMODE(os.lstat(key.parent).st_mode)
        if key_mode != 0o600 or dir_mode != 0o700:
            raise SystemExit(f"{rec.key_path}: mode {key_mode:o} in dir {dir_mode:o}")
        leaf = x509.load_pem_x509_certificate((ws.directory / rec.cert_path).read_bytes())
        chain = x509.load_pem_x509_certificates((ws.directory / rec.chain_path).read_bytes())
        if format(leaf.serial_number, "x") != rec.serial or chain[0] != leaf:
            raise SystemExit(f"{rec.cert_path}: serial or chain does not match the record")
        if rec.p12_path is not None:
            raise SystemExit("a PKCS#12 bundle was written: unset WORKBENCH_P12_PASSWORD")
    audit = verify_audit(ws)
    if not audit.ok:
        raise SystemExit(f"audit log broken: {audit.reason}")
    issues = sum(1 for r in ws.audit_records() if r.action == "cert.issue")
    if issues != services:
        raise SystemExit(f"{issues} cert.issue audit records, expected {services}")
    return {"active": len(active), "audit_records": audit.count, "sampled_files": len(picks)}


# --- baselines ---------------------------------------------------------------------------


def _ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench issuing CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def raw_loop(n: int) -> dict:
    """EC P-256 key + client leaf (same extensions as the workbench's) + PEM, in memory."""
    now = datetime.now(UTC).replace(microsecond=0)
    ca_key, ca_cert = _ca(now)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    fixed = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(True, False, False, False, False, False, False, False, False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        (aki, False),
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    total = 0
    for i in range(n):
        sid = f"svc-{i:05d}"
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, TRUST_DOMAIN),
                        x509.NameAttribute(NameOID.COMMON_NAME, sid),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=7))
        )
        for ext, critical in fixed:
            builder = builder.add_extension(ext, critical)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
        ).add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(f"spiffe://{TRUST_DOMAIN}/prod/{sid}")]
            ),
            False,
        )
        cert = builder.sign(ca_key, hashes.SHA256())
        total += len(cert.public_bytes(serialization.Encoding.PEM))
        total += len(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"certs": n, "seconds": wall, "rate": n / wall, "cpu_rate": n / cpu, "bytes": total}


OPENSSL_SCRIPT = r"""#!/bin/sh
# What a migration script does per service: key + CSR, then sign it with the CA.
set -eu
cd "$1"
i=0
while [ "$i" -lt "$2" ]; do
  i=$((i + 1))
  svc=$(printf 'svc-%05d' "$i")
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "out/$svc.key" -subj "/O=bench.test/CN=$svc" 2>/dev/null |
    openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -sha256 \
      -extfile ext.cnf -extensions leaf -out "out/$svc.crt" 2>/dev/null
  chmod 600 "out/$svc.key"
done
"""

OPENSSL_EXT = """[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:spiffe://bench.test/prod/svc
"""


def openssl_loop(n: int, work: Path) -> dict:
    """``openssl req | openssl x509`` per certificate from a shell loop (n certs)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return {"certs": 0, "seconds": None, "rate": None, "skipped": "openssl not on PATH"}
    d = work / "openssl"
    (d / "out").mkdir(parents=True)
    ca_key, ca_cert = _ca(datetime.now(UTC))
    (d / "ca.key").write_bytes(
        ca_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (d / "ca.key").chmod(0o600)
    (d / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (d / "ext.cnf").write_text(OPENSSL_EXT, encoding="ascii")
    script = d / "issue.sh"
    script.write_text(OPENSSL_SCRIPT, encoding="ascii")
    t0 = time.perf_counter()
    subprocess.run(["/bin/sh", str(script), str(d), str(n)], check=True)  # noqa: S603
    wall = time.perf_counter() - t0
    made = len(list((d / "out").glob("*.crt")))
    if made != n:
        raise SystemExit(f"the openssl loop made {made} certificates, expected {n}")
    return {"certs": n, "seconds": wall, "rate": n / wall}


def bare_files_loop(n: int, work: Path) -> dict:
    """The I/O floor on the same file system: per certificate one 0700 directory and three
    files of the workbench's sizes (key, cert, chain), then one flush; no crypto, no state."""
    base = work / "bare"
    base.mkdir(mode=0o700)
    sizes = (241, 790, 2370)  # EC key PEM, leaf PEM, leaf + intermediate + root
    blobs = [b"x" * size for size in sizes]
    t0 = time.perf_counter()
    for i in range(n):
        slot = base / f"svc-{i:05d}"
        slot.mkdir(mode=0o700)
        for j, blob in enumerate(blobs):
            fd = os.open(slot / f"f{j}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, blob)
            finally:
                os.close(fd)
    os.sync()
    wall = time.perf_counter() - t0
    return {"certs": n, "seconds": wall, "rate": n / wall}


# --- report ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=2000, help="certificates to issue (2000)")
    ap.add_argument("--openssl", type=int, default=100, help="openssl-loop certificates (100)")
    ap.add_argument("--raw", type=int, default=2000, help="raw cryptography-loop certs (2000)")
    ap.add_argument(
        "--dir", type=Path, help="make the scratch workspace under DIR (default: system temp)"
    )
    ap.add_argument("--profile", type=Path, help="write a cProfile of issue_step here")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--issuer",
        choices=("local", "vault"),
        default="local",
        help="vault: through a real OpenBao at concurrency 1 and 8 against the local CA "
        "(--services defaults to 400 then)",
    )
    ap.add_argument("--rounds", type=int, default=3, help="--issuer vault: rounds (3)")
    args = ap.parse_args(argv)
    if args.issuer == "vault":
        return vault_main(args)
    if min(args.services, args.raw) < 1 or args.openssl < 0:
        ap.error("--services and --raw must be >= 1, --openssl >= 0")

    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="issue-rate-", dir=args.dir))
    try:
        wb = workbench_run(args.services, work, profile=args.profile)
        files = bare_files_loop(args.services, work)
        raw = raw_loop(args.raw)
        ossl = openssl_loop(args.openssl, work) if args.openssl else {"rate": None}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    raw_share = wb["rate"] / raw["rate"]
    ossl_factor = wb["rate"] / ossl["rate"] if ossl.get("rate") else None
    goals = {
        "raw_share": {"value": raw_share, "goal": GOAL_RAW_SHARE, "pass": raw_share >= 0.4},
        "openssl_factor": {
            "value": ossl_factor,
            "goal": GOAL_OPENSSL_FACTOR,
            "pass": None if ossl_factor is None else ossl_factor >= GOAL_OPENSSL_FACTOR,
        },
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    # What no implementation on this file system can beat: the raw crypto plus the bare file
    # creation, one after the other (context for the goal, not a goal of the issue).
    floor_rate = 1 / (1 / raw["rate"] + 1 / files["rate"])
    result = {
        "workbench": wb,
        "bare_files": files,
        "crypto_plus_files_rate": floor_rate,
        "share_of_crypto_plus_files": wb["rate"] / floor_rate,
        "raw": raw,
        "openssl": ossl,
        "goals": goals,
        "loadavg_1m": load,
        "directory": str(work.parent),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_report(result)
    passed = [g["pass"] for g in goals.values() if g["pass"] is not None]
    return 0 if all(passed) else 1


def vault_main(args: argparse.Namespace) -> int:
    """``--issuer vault``: see bench/vault_rate.py."""
    import vault_rate

    services = args.services if args.services != 2000 else 400
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="issue-rate-vault-", dir=args.dir))
    try:
        result = vault_rate.run(
            services, work, write_inventory, KEY_ID, PASSPHRASE, rounds=max(1, args.rounds)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        vault_rate.print_report(result)
    return 0 if result["goal"]["pass"] else 1


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def _print_report(r: dict) -> None:
    wb, raw, ossl, goals = r["workbench"], r["raw"], r["openssl"], r["goals"]
    print(
        f"workbench issue_step : {wb['rate']:8.0f} certs/s  ({wb['certs']} certs in "
        f"{wb['seconds']:.2f} s; per cert {wb['user_us_per_cert']:.0f} us user + "
        f"{wb['kernel_us_per_cert']:.0f} us kernel CPU; init {wb['init_seconds']:.2f} s untimed)"
    )
    print(
        f"raw cryptography loop: {raw['rate']:8.0f} certs/s  ({raw['certs']} certs in "
        f"{raw['seconds']:.2f} s, in memory)"
    )
    if ossl.get("rate"):
        print(
            f"openssl req|x509 loop: {ossl['rate']:8.1f} certs/s  ({ossl['certs']} certs in "
            f"{ossl['seconds']:.2f} s, extrapolated)"
        )
    else:
        print("openssl req|x509 loop: skipped")
    print(
        f"checked: {wb['active']} active certificates, {wb['audit_records']} audit records "
        f"chained and mirrored, {wb['sampled_files']} slots sampled (key 0600 in 0700 dir)"
    )
    files = r["bare_files"]
    print(
        f"bare file creation   : {files['rate']:8.0f} slots/s  (mkdir + 3 files per cert on the "
        f"same file system, no crypto); raw crypto + files together: "
        f"{r['crypto_plus_files_rate']:.0f}/s, the workbench reaches "
        f"{r['share_of_crypto_plus_files']:.0%} of that"
    )
    g = goals["raw_share"]
    print(f"goal >= {g['goal']:.0%} of raw loop : {g['value']:6.1%}  {_verdict(g['pass'])}")
    g = goals["openssl_factor"]
    value = "   n/a" if g["value"] is None else f"{g['value']:6.1f}x"
    print(f"goal >= {g['goal']:.0f}x openssl loop: {value}  {_verdict(g['pass'])}")
    where = f"workspace under {r['directory']}"
    if r["loadavg_1m"] is not None:
        where += f"; load average (1 min) at the end {r['loadavg_1m']:.2f} on {os.cpu_count()} cpus"
    print(where)


if __name__ == "__main__":
    raise SystemExit(main())
