"""`make demo`: the main job end to end on the sample environment.

A thin front end: every step is a `workbench` command (printed as it runs, so the demo
doubles as a tour of the CLI), except the simulated consumer traffic.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.cli import main as workbench
from workbench.secrets import child_environ

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
OUT = ROOT / "demo-out"
WS = OUT / "workspace"
DEMO_PASSPHRASE = "demo-only-passphrase"  # noqa: S105 - a real run takes it from the environment or a prompt


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def chapter(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def run(*argv: str, ok: tuple[int, ...] = (0,)) -> int:
    print(f"$ workbench {' '.join(argv)}", flush=True)
    code = workbench(list(argv))
    sys.stdout.flush()
    if code not in ok:
        raise SystemExit(f"demo: `workbench {' '.join(argv)}` exited {code}")
    return code


def show_calls(label: str, calls) -> None:
    shown = ", ".join(f"{c.service}={c.status or c.error}" for c in calls)
    print(f"  {label}: {shown}")


def demo(gateway: str) -> int:
    os.environ.setdefault("WORKBENCH_CA_PASSPHRASE", DEMO_PASSPHRASE)
    os.environ.setdefault("WORKBENCH_P12_PASSWORD", DEMO_PASSPHRASE)  # Java keystores
    ws = ["--workspace", rel(WS)]
    inventory = rel(SAMPLE)
    if (WS / "state.db").exists():
        workbench(["sample-env", "down", *ws])  # a previous run's environment, if any
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()

    chapter("1. Inventory: validate it and list the risky facts (exit 1: there are findings)")
    run("inventory", "check", inventory, ok=(0, 1))

    chapter("2. Dependency graph: shared keys, blast radius, cycles; exported in every format")
    run("graph", inventory, "--report")
    for fmt, ext in (("json", "json"), ("graphml", "graphml"), ("dot", "dot"), ("mermaid", "mmd")):
        run("graph", inventory, "--format", fmt, "-o", rel(OUT / f"graph.{ext}"))

    chapter("3. Migration plan: ranked waves, every score explained")
    run("plan", inventory)
    run("plan", inventory, "--json")  # what automation reads
    chapter("4. Workspace: plan snapshot, local CA (root + issuing), audit log")
    run("init", inventory, *ws)

    chapter(f"5. The sample environment runs for real ({gateway} gateway, backend, keys 0600)")
    run("sample-env", "up", "--gateway", gateway, *ws)
    try:
        return wave_one(ws)
    finally:
        chapter("Stopping the sample environment (every process it started, by PID)")
        run("sample-env", "down", *ws)


def wave_one(ws: list[str]) -> int:
    from workbench.migration import open_campaign
    from workbench.migration.traffic import consumer_calls

    with open_campaign(WS) as campaign:
        steps = [s.key for s in campaign.workspace.steps(wave=1)]
    good, broken = steps[:-1], steps[-1]

    chapter(f"6. Wave 1 ({', '.join(steps)}): certificates for every consumer")
    run("issue", "--wave", "1", *ws)
    run("issue", "--wave", "1", *ws)  # idempotent: nothing new

    chapter("7. Overlap window: gateways in dual; consumers still on the old key")
    with open_campaign(WS) as campaign:
        for key in steps:
            run("gateway", "set-mode", "dual", "--step", key, *ws)
            show_calls(f"{key} consumers with the old key", consumer_calls(campaign, key, "key"))
    run("usage", "--step", steps[0], *ws, ok=(1,))  # exit 1: still in use, not yet
    run("cutover", "--step", steps[0], *ws, ok=(1,))  # refused by its usage pre-check

    chapter("8. Configs for every consumer and gateway; one consumer runs its generated client")
    for key in steps:
        run("render", "--step", key, *ws)
    first = steps[0]
    with open_campaign(WS) as campaign:
        service = campaign.inventory.consumers_of(first)[0]
    client = WS / "rendered" / first / "clients" / service / "httpx_client.py"
    print(f"$ python {rel(client)}   # as {service} would, with its certificate and no key")
    proc = subprocess.run(
        [sys.executable, str(client)], capture_output=True, text=True, env=child_environ()
    )
    print(f"  {proc.stdout.strip() or proc.stderr.strip()} (exit {proc.returncode})")
    if proc.returncode != 0:
        raise SystemExit("demo: the generated httpx client failed")

    chapter("9. Consumers switch to their certificates; the old keys fall silent")
    # nginx logs whole seconds: start the quiet window at the next second, after every
    # old-key request above.
    now = datetime.now(UTC)
    switched = (now.replace(microsecond=0) + timedelta(seconds=1)).isoformat()
    with open_campaign(WS) as campaign:
        for key in steps:
            show_calls(f"{key} consumers with certificates", consumer_calls(campaign, key, "cert"))
    run("usage", "--step", steps[0], "--since", switched, *ws)

    chapter("10. Cut over and verify: the new certificate accepted, the old key refused -> PASS")
    for key in good:
        run("cutover", "--step", key, "--since", switched, *ws)

    with open_campaign(WS) as campaign:
        inv = campaign.inventory
        single = [k for k in good if sum(1 for x in inv.keys if x.api == inv.key(k).api) == 1]
    if single:
        tokened = single[0]
        chapter(f"10b. {tokened}: its API now also requires certificate-bound tokens (RFC 8705)")
        run("gateway", "set-mode", "mtls+token", "--step", tokened, *ws)
        with open_campaign(WS) as campaign:
            show_calls("certificate alone", consumer_calls(campaign, tokened, "cert"))
            show_calls(
                "certificate + bound token from the token server",
                consumer_calls(campaign, tokened, "cert+token"),
            )
        run("verify", "--step", tokened, *ws)

    chapter(f"11. A broken change: {broken}'s key left enabled at cut-over -> FAIL, rolled back")
    run(
        "cutover",
        "--step",
        broken,
        "--since",
        switched,
        "--simulate-fault",
        "old-key-left-enabled",
        *ws,
        ok=(1,),
    )

    chapter("12. Where things stand; the audit chain is intact")
    run("status", *ws)
    run("audit", "verify", *ws)

    chapter("13. Change tickets for wave 1, with the evidence of its PASS and of the caught FAIL")
    playbooks = OUT / "playbooks"
    run("export", "playbook", "--wave", "1", "--format", "md", "-o", rel(playbooks), *ws)
    run("export", "playbook", "--wave", "1", "--format", "csv", "-o", rel(playbooks), *ws)
    run("export", "playbook", "--wave", "1", "--format", "json", "-o", rel(playbooks), *ws)
    print(f"\nworkspace: {rel(WS)}   graph exports: {rel(OUT)}/graph.*")
    print(f"playbooks: {rel(playbooks)}/ (wave-01.md summary, one ticket per step, tickets.csv)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.demo", description=__doc__)
    parser.add_argument("--gateway", choices=("python", "nginx"), default="python")
    args = parser.parse_args(argv)
    return demo(args.gateway)


if __name__ == "__main__":
    sys.exit(main())
