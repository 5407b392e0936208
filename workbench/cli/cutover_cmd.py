"""``workbench cutover`` (retire a step's key at its gateway, verify, roll back unless PASS)
and ``workbench evidence`` (what the verifier recorded for a step).

Exit status of ``cutover``: 0 PASS (step verified); 1 rolled back or refused; 2 bad usage.
"""

from __future__ import annotations

import argparse

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json, progress
from workbench.errors import VerifyError
from workbench.states import Verdict

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``cutover`` and ``evidence`` to the top-level parser (after ``verify``)."""
    from workbench.cli.verify_cmd import add_probe_options

    c = sub.add_parser(
        "cutover",
        help="check usage, switch a step to mtls, verify, roll back unless PASS",
        description=(
            "On the managed gateway: refuse if the old key was still accepted recently (see "
            "`workbench usage`), retire the step's key (mtls), run the verifier, and roll back "
            "to dual automatically unless the verdict is PASS. Everything is audited."
        ),
        epilog="Exit status: 0 PASS (step verified); 1 rolled back or refused; 2 bad usage.",
    )
    e = sub.add_parser(
        "evidence",
        help="show the recorded evidence of a step's verifications",
        description=(
            "Show what the verifier recorded for a step: per probe the URL, resolved IP, SNI, "
            "TLS version, HTTP status or TLS alert, timing and the identity used (the old key "
            "only by fingerprint). The latest run by default, --all for every run."
        ),
    )
    e.add_argument("--step", required=True, metavar="KEY", help="the step (key id)")
    e.add_argument("--all", action="store_true", help="every recorded run, oldest first")
    add_workspace_arg(e)
    add_json_arg(e)
    e.set_defaults(func=handle_evidence)

    c.add_argument("--step", required=True, metavar="KEY", help="the step (key id)")
    add_workspace_arg(c)
    c.add_argument(
        "--usage-window",
        type=int,
        default=15,
        metavar="MIN",
        help="old-key use in the last MIN minutes blocks the cut-over (default 15)",
    )
    c.add_argument(
        "--since",
        metavar="T",
        help="old-key use since T (ISO 8601) blocks the cut-over (instead of the window)",
    )
    c.add_argument("--force", action="store_true", help="cut over despite recent old-key use")
    c.add_argument(
        "--simulate-fault",
        choices=("old-key-left-enabled",),
        default=None,
        help="rehearsal: make the gateway change forget to retire the key",
    )
    add_probe_options(c)
    add_json_arg(c)
    c.set_defaults(func=handle_cutover)


def handle_evidence(args: argparse.Namespace) -> int:
    from workbench.cli.verdict_output import print_evidence
    from workbench.errors import InputError
    from workbench.verify.reading import VerdictReading
    from workbench.workspace import Workspace, chain_head

    with Workspace.open(args.workspace) as ws:
        ws.step(args.step)
        runs = [VerdictReading.from_row(r) for r in ws.verdicts(args.step)]
        head = chain_head(ws).to_dict()  # the audit record this export is bound to (req. 31)
    if not runs:
        raise InputError(f"step {args.step} has no recorded verification: run `workbench verify`")
    runs = runs if args.all else runs[-1:]
    if args.json:
        docs = [
            {
                "id": r.id,
                "verdict": r.verdict,
                "old_key_fingerprint": r.old_key_fingerprint,
                "recorded_at": r.recorded_at,
                **r.document,
                "audit_head": head,
            }
            for r in runs
        ]
        print_json(docs if args.all else docs[0])
        return 0
    for run in runs:
        print_evidence(run, args.step)
    return 0


def _since(text: str | None):
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise VerifyError(f"bad --since {text!r}: use ISO 8601, e.g. 2026-11-22T10:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def handle_cutover(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from workbench.cli._secrets import open_workspace_campaign
    from workbench.cli.verdict_output import print_step_verdict
    from workbench.cli.verify_cmd import run_options
    from workbench.migration.verification import cutover

    # Seconds of probing with nothing to count: an open-ended bar with the time elapsed.
    busy = progress(f"cutting over {args.step}", None, enabled=not args.json)
    with open_workspace_campaign(args) as campaign, busy:
        out = cutover(
            campaign,
            args.step,
            usage_window=timedelta(minutes=args.usage_window),
            since=_since(args.since),
            force=args.force,
            fault=args.simulate_fault,
            options=run_options(args),
        )
    if args.json:
        print_json(
            {
                "step": out.step,
                "verdict": out.verdict.verdict if out.verdict else None,
                "rolled_back": out.rolled_back,
                "state": out.state,
                "usage_accepted_before": out.usage_accepted,
                "evidence": out.verdict.document if out.verdict else None,
            }
        )
    else:
        if out.verdict:
            print_step_verdict(out.verdict.reading, out.step, out.state)
        if out.rolled_back:
            print(f"ROLLED BACK: {out.step} is back in dual (old key re-enabled); fix and retry")
        elif out.verdict and out.verdict.verdict == Verdict.PASS:
            print(f"{out.step}: cut over and verified")
        else:
            print(f"NOT CUT OVER: {out.step}: nothing was changed")
    return 0 if out.verdict and out.verdict.verdict == Verdict.PASS else 1
