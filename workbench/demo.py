"""`make demo`: the main job end to end on the sample environment, told as a story.

Each stage is one sentence and the commands it runs; the full output of every command
(JSON where there is a ``--json``) goes to a file under ``demo-out/``, and the screen shows
only what matters: counts, the verdict tables and where each artefact is. Every run starts
from a clean sample environment: the previous one is stopped and ``demo-out/`` (the
inventory copy, its key files and gateway state, the workspace) is made anew.

A thin front end: every step is a ``workbench`` command, except the simulated consumer
traffic.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.cli import main as workbench
from workbench.secrets import child_environ

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_env" / "inventory.yaml"
OUT = ROOT / "demo-out"
INVENTORY = OUT / "inventory.yaml"
"""A copy of the sample: its key files and gateway state live next to it, under demo-out/."""
WS = OUT / "workspace"
LOGS = OUT / "output"
DEMO_PASSPHRASE = "demo-only-passphrase"  # noqa: S105 - a real run takes it from the environment or a prompt


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def _bold() -> bool:
    """Bold headings on a terminal that shows them; plain text in a log, a pipe, NO_COLOR."""
    return (
        sys.stdout.isatty()
        and "NO_COLOR" not in os.environ
        and os.environ.get("TERM", "dumb") != "dumb"
    )


def chapter(title: str) -> None:
    heading = f"== {title}"
    print(f"\n\033[1m{heading}\033[0m" if _bold() else f"\n{heading}", flush=True)


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def run(*argv: str, save: str, ok: tuple[int, ...] = (0,), show: bool = True) -> tuple[int, str]:
    """Run a workbench command, its output into ``demo-out/output/<save>``; show the command."""
    path = LOGS / save
    if show:
        print(f"$ workbench {' '.join(argv)}  > {rel(path)}", flush=True)
    buffer, errors = io.StringIO(), io.StringIO()
    with redirect_stdout(buffer), redirect_stderr(errors):
        code = workbench(list(argv))
    path.write_text(buffer.getvalue(), encoding="utf-8")
    if errors.getvalue():
        path.with_name(path.name + ".stderr").write_text(errors.getvalue(), encoding="utf-8")
    if code not in ok:
        raise SystemExit(f"demo: `workbench {' '.join(argv)}` exited {code} (see {rel(path)})")
    return code, buffer.getvalue()


def run_json(*argv: str, save: str, ok: tuple[int, ...] = (0,), show: bool = True):
    _, text = run(*argv, "--json", save=save, ok=ok, show=show)
    return json.loads(text)


def each(argv: tuple[str, ...], keys: list[str]) -> None:
    """One line for the same command over several steps."""
    line = " ".join(argv).replace("{key}", "{" + ",".join(keys) + "}")
    print(f"$ workbench {line}  > {rel(LOGS)}/", flush=True)


@contextmanager
def progress(what: str, *argv: str):
    """``what ... done (3.1 s)``, a dot a second meanwhile: set-up takes seconds."""
    print(f"$ workbench {' '.join(argv)}", flush=True)
    print(f"  {what} ", end="", flush=True)
    started = time.monotonic()
    stop = threading.Event()
    screen = sys.stdout  # the commands' output is redirected meanwhile; the dots are not

    def tick() -> None:
        while not stop.wait(1.0):
            screen.write(".")
            screen.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
    print(f" done ({time.monotonic() - started:.1f} s)", flush=True)


def verdict_table(step: str, doc: dict, state: str) -> None:
    """One verdict, one row per kind of probe: what was expected, what the gateway answered
    (every probe of that kind), and how many passed."""
    say(f"{step}: {doc['verdict']} (step now {state})  {doc['url']}")
    scope = (doc.get("scope") or {}).get("text")
    if scope:
        say(f"  covered: {scope}")
    for name, expected in _probe_kinds([doc]):
        mine = [p for p in doc["probes"] if p["name"] == name]
        passed = sum(p["outcome"] == "pass" for p in mine)
        say(f"  {name:<22} expected {expected:<9} {_answers(mine):<30} {passed}/{len(mine)} pass")


def _short(observed: str) -> str:
    """``TLS alert SSLV3_ALERT_CERTIFICATE_REVOKED`` -> ``alert CERT_REVOKED``; ``HTTP 401``
    -> ``401``."""
    for prefix in ("TLS alert TLSV13_ALERT_", "TLS alert TLSV1_ALERT_", "TLS alert SSLV3_ALERT_"):
        if observed.startswith(prefix):
            return "alert " + observed[len(prefix) :].replace("CERTIFICATE_", "CERT_")
    return observed.removeprefix("HTTP ")


def _probe_kinds(docs) -> list[tuple[str, str]]:
    """(probe name, expected) in the order the verifier ran them, each once."""
    kinds: dict[tuple[str, str], None] = {}
    for doc in docs:
        for p in doc["probes"]:
            kinds.setdefault((p["name"], p["expected"]), None)
    return list(kinds)


def _answers(probes) -> str:
    """What probes of one kind got: ``14x 401`` or ``14x 401/403``; ``!`` marks a failure."""
    if not probes:
        return "-"
    seen = sorted({_short(p["observed"]) for p in probes})
    bad = any(p["outcome"] != "pass" for p in probes)
    return f"{'!' if bad else ''}{len(probes)}x {'/'.join(seen)}"


def wave_table(docs: dict[str, dict]) -> None:
    """Several steps' verdicts side by side: one row per kind of probe, one column per step,
    each cell every probe of that kind (count and answers; ``!`` marks a failure)."""
    keys = list(docs)
    width = max(22, *(len(k) for k in keys))
    say(f"{'probe':<20} {'expected':<9}" + "".join(f" {k:<{width}}" for k in keys))
    for name, expected in _probe_kinds(docs.values()):
        cells = []
        for k in keys:
            mine = [p for p in docs[k]["probes"] if p["name"] == name]
            cells.append(f" {_answers(mine)[:width]:<{width}}")
        say(f"{name:<20} {expected:<9}" + "".join(cells))
    say(f"{'verdict':<30}" + "".join(f" {docs[k]['verdict']:<{width}}" for k in keys))
    for k in keys:
        scope = (docs[k].get("scope") or {}).get("text")
        if scope:
            say(f"  {k}: {scope}")


def calls(label: str, made) -> None:
    say(f"{label}: " + ", ".join(f"{c.service}={c.status or c.error}" for c in made))


def place(out: Path) -> None:
    """Put the run's files under ``out`` (default ``demo-out/``; the tests use a temp dir)."""
    global OUT, INVENTORY, WS, LOGS
    OUT = out.resolve()
    INVENTORY, WS, LOGS = OUT / "inventory.yaml", OUT / "workspace", OUT / "output"


def clean_start(gateway: str, port: int | None = None) -> list[str]:
    """Stop a previous run's environment, then make demo-out/ anew from the sample (on
    ``port`` instead of the sample's 8443 when given)."""
    if (WS / "state.db").exists():
        with redirect_stdout(io.StringIO()):
            workbench(["sample-env", "down", "--workspace", str(WS)])
    shutil.rmtree(OUT, ignore_errors=True)
    LOGS.mkdir(parents=True)
    text = SAMPLE.read_text(encoding="utf-8")
    if port is not None:
        text = re.sub(r"127\.0\.0\.1:8443\b", f"127.0.0.1:{port}", text)
    INVENTORY.write_text(text, encoding="utf-8")
    return ["--workspace", rel(WS)]


def demo(gateway: str, port: int | None = None) -> int:
    os.environ.setdefault("WORKBENCH_CA_PASSPHRASE", DEMO_PASSPHRASE)
    os.environ.setdefault("WORKBENCH_P12_PASSWORD", DEMO_PASSPHRASE)  # Java keystores
    ws = clean_start(gateway, port)
    inventory = rel(INVENTORY)
    print(
        "The sample company's services call each other's APIs with static keys. This demo "
        "moves the first wave\nonto mTLS client certificates on a real gateway, with proof "
        f"at every step. Full outputs: {rel(OUT)}/."
    )

    chapter("1. Inventory: validate it and list the risky facts")
    check = run_json("inventory", "check", inventory, save="inventory-check.json", ok=(0, 1))
    findings = check["findings"]
    say(f"valid: {check['valid']}; {len(findings)} findings, e.g.:")
    for f in findings[:3]:
        say(f"  {f['severity']}: {f['message']}")

    chapter("2. Dependency graph: shared keys, blast radius, cycles")
    run("graph", inventory, "--report", save="graph-report.txt")
    print(f"$ workbench graph {inventory} --format json|graphml|dot|mermaid -o {rel(OUT)}/graph.*")
    for fmt, ext in (("json", "json"), ("graphml", "graphml"), ("dot", "dot"), ("mermaid", "mmd")):
        target = rel(OUT / f"graph.{ext}")
        run("graph", inventory, "--format", fmt, "-o", target, save=f"graph-{ext}.log", show=False)
    run("graph", inventory, "--format", "svg", "-o", rel(OUT / "graph.svg"), save="graph-svg.log")
    say(f"picture: {rel(OUT)}/graph.svg; exports: {rel(OUT)}/graph.{{json,graphml,dot,mmd}}")

    chapter("3. Migration plan: every key ranked by risk, grouped into waves")
    plan = run_json("plan", inventory, save="plan.json")
    say(f"{plan['steps']} steps in {len(plan['waves'])} waves; wave 1:")
    for s in plan["waves"][0]["steps"]:
        top = s["reasons"][0]
        say(f"  {s['key']:<14} score {s['score']:5.1f}  {top['factor']} ({top['detail']})")

    chapter(f"4. Set-up: workspace, local CA and the sample environment ({gateway} gateway)")
    init = ("init", inventory, *ws)
    with progress("workspace: plan snapshot, root + issuing CA (keys encrypted), audit log", *init):
        run_json(*init, save="init.json", show=False)
    up = ("sample-env", "up", "--gateway", gateway, *ws)
    with progress("backend, gateway, token server on 127.0.0.1; revoked canaries in the CRL", *up):
        env = run_json(*up, save="sample-env-up.json", show=False)
    modes = sorted(set(env["modes"].values()))
    apis = len(env["modes"])
    say(f"gateway pid {env['gateway_pid']}, port {env['port']}: {apis} APIs in {', '.join(modes)}")
    try:
        return wave_one(ws)
    finally:
        chapter("Stopping the sample environment (every process it started, by PID)")
        run("sample-env", "down", *ws, save="sample-env-down.txt")


def wave_one(ws: list[str]) -> int:
    from workbench.lab.traffic import consumer_calls
    from workbench.migration import open_campaign

    with open_campaign(WS) as campaign:
        steps = [s.key for s in campaign.workspace.steps(wave=1)]
    good, broken = steps[:-1], steps[-1]

    chapter(f"5. Wave 1 ({', '.join(steps)}): a certificate for every consumer")
    issued = run_json("issue", "--wave", "1", *ws, save="issue-wave-1.json")
    certs = [c for o in issued for c in o["certificates"]]
    say(f"{len(certs)} certificates (EC P-256, 7 days, SPIFFE ids); keys 0600 in {rel(WS)}/certs")
    again = run_json("issue", "--wave", "1", *ws, save="issue-wave-1-again.json")
    say(f"again: {sum(len(o['issued']) for o in again)} new (idempotent)")

    chapter("6. Overlap: gateways accept certificate or key; consumers still send the key")
    each(("gateway", "set-mode", "dual", "--step", "{key}", *ws), steps)
    with open_campaign(WS) as campaign:
        for key in steps:
            change = run_json(
                "gateway",
                "set-mode",
                "dual",
                "--step",
                key,
                *ws,
                save=f"dual-{key}.json",
                show=False,
            )
            moved = f"{key} {change['from_mode']} -> {change['to_mode']}, old key"
            calls(moved, consumer_calls(campaign, key, "key"))
    usage = run_json("usage", "--step", steps[0], *ws, save=f"usage-{steps[0]}.json", ok=(1,))
    say(f"usage: old key of {steps[0]} accepted {usage['accepted']} times: not yet")
    run("cutover", "--step", steps[0], *ws, save=f"cutover-{steps[0]}-refused.txt", ok=(1, 2))
    say("cutover refused by its usage pre-check, nothing changed (the TUI offers --since/--force)")

    chapter("7. Configs for every consumer and gateway; one consumer runs its generated client")
    each(("render", "--step", "{key}", *ws), steps)
    counts = []
    for key in steps:
        out = run_json("render", "--step", key, *ws, save=f"render-{key}.json", show=False)
        counts.append(len(out["files"]))
    say(f"{sum(counts)} files ({min(counts)}-{max(counts)} per step) in {rel(WS)}/rendered/<step>/")
    with open_campaign(WS) as campaign:
        service = campaign.inventory.consumers_of(steps[0])[0]
    client = WS / "rendered" / steps[0] / "clients" / service / "httpx_client.py"
    proc = subprocess.run(
        [sys.executable, str(client)], capture_output=True, text=True, env=child_environ()
    )
    say(f"python {rel(client)}: {proc.stdout.strip() or proc.stderr.strip()}")
    if proc.returncode != 0:
        raise SystemExit("demo: the generated httpx client failed")

    chapter("8. Consumers switch to their certificates; the old keys fall silent")
    # nginx logs whole seconds: start the quiet window at the next second.
    switched = (datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)).isoformat()
    with open_campaign(WS) as campaign:
        for key in steps:
            calls(f"{key}, certificate", consumer_calls(campaign, key, "cert"))
    usage = run_json("usage", "--step", steps[0], "--since", switched, *ws, save="usage-after.json")
    say(f"usage since {switched}: {usage['accepted']} accepted: safe to cut over")

    chapter("9. Cut over and verify: new certificate accepted, old key refused -> PASS")
    each(("cutover", "--step", "{key}", "--since", switched, *ws), good)
    docs, states = {}, {}
    for key in good:
        out = run_json(
            "cutover",
            "--step",
            key,
            "--since",
            switched,
            *ws,
            save=f"cutover-{key}.json",
            show=False,
        )
        docs[key], states[key] = out["evidence"], out["state"]
    wave_table(docs)
    say("steps now: " + ", ".join(f"{k} {v}" for k, v in states.items()))

    with open_campaign(WS) as campaign:
        inv = campaign.inventory
        single = [k for k in good if sum(1 for x in inv.keys if x.api == inv.key(k).api) == 1]
    if single:
        tokened = single[0]
        chapter(f"10. {tokened}: its API now also wants certificate-bound tokens (RFC 8705)")
        run_json(
            # --force: the step is verified, and this change voids that proof until re-verified
            "gateway",
            "set-mode",
            "mtls+token",
            "--step",
            tokened,
            "--force",
            *ws,
            save="token-mode.json",
        )
        with open_campaign(WS) as campaign:
            calls("certificate alone", consumer_calls(campaign, tokened, "cert"))
            calls("certificate + bound token", consumer_calls(campaign, tokened, "cert+token"))
        doc = run_json("verify", "--step", tokened, *ws, save=f"verify-{tokened}.json")
        verdict_table(tokened, doc, doc["state"])

    chapter(f"11. A broken change: {broken}'s key left enabled at cut-over -> FAIL, rolled back")
    out = run_json(
        "cutover",
        "--step",
        broken,
        "--since",
        switched,
        "--simulate-fault",
        "old-key-left-enabled",
        *ws,
        save=f"cutover-{broken}-fault.json",
        ok=(1,),
    )
    verdict_table(broken, out["evidence"], out["state"])
    say(f"rolled back: {out['rolled_back']} (the old key works again until the fix)")

    chapter("12. Where things stand; the audit chain is intact")
    status = run_json("status", *ws, save="status.json")
    say(", ".join(f"{n} {state}" for state, n in sorted(status["counts"].items())))
    audit = run_json("audit", "verify", *ws, save="audit-verify.json")
    say(f"audit: {'OK' if audit['ok'] else 'BROKEN'}: {audit['reason']}")

    chapter("13. Change tickets for wave 1, with the evidence of its PASS and the caught FAIL")
    playbooks = OUT / "playbooks"
    for fmt in ("md", "csv", "json"):
        out = run_json(
            "export",
            "playbook",
            "--wave",
            "1",
            "--format",
            fmt,
            "-o",
            rel(playbooks),
            *ws,
            save=f"export-{fmt}.json",
        )
        say(f"{fmt}: {len(out['files'])} file(s)")

    chapter("Where everything is")
    for what, where in (
        ("every command's full output (JSON)", LOGS),
        ("the workspace: state.db, audit.jsonl, CA, certificates (0600)", WS),
        ("rendered client and gateway configs", WS / "rendered"),
        ("change tickets (md per step, wave summary, tickets.csv)", playbooks),
        ("dependency graph picture (open it in a browser)", OUT / "graph.svg"),
        ("dependency graph exports", OUT / "graph.{json,graphml,dot,mmd}"),
        ("the inventory copy this run used", INVENTORY),
        ("its generated keys (0600) and the gateway's state", OUT / "state"),
    ):
        say(f"{rel(where):<32} {what}")
    say(f"browse it all in the TUI: .venv/bin/workbench tui --workspace {rel(WS)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.demo", description=__doc__)
    parser.add_argument("--gateway", choices=("python", "nginx"), default="python")
    parser.add_argument(
        "--out", type=Path, default=OUT, metavar="DIR", help="where it all goes (demo-out/)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="the gateway's port (default: the sample's 8443)"
    )
    args = parser.parse_args(argv)
    place(args.out)
    return demo(args.gateway, args.port)


if __name__ == "__main__":
    sys.exit(main())
