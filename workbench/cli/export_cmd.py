"""``workbench export playbook``: change tickets for steps, waves or the whole plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    export = sub.add_parser(
        "export",
        help="export change-ticket playbooks",
        description="Export what the workspace knows as documents for other systems.",
    )
    what = export.add_subparsers(dest="export_what", metavar="WHAT")
    export.set_defaults(func=lambda args: (export.print_help(), 2)[1])
    p = what.add_parser(
        "playbook",
        help="one change ticket per step and a summary per wave",
        description=(
            "Write change tickets a change board can approve and on-call can execute or roll "
            "back: risk and its reasons, owners, schedule, pre-checks (gateway mode, "
            "certificates, old-key usage), numbered commands, verification probes, rollback, "
            "evidence (latest verdict, serials, audit hashes) and a Mermaid picture. A step "
            "without a recorded PASS says NOT VERIFIED. Formats: md (wikis), yaml/json "
            "(schema workbench.playbook/v2), csv (bulk import into ticket systems)."
        ),
    )
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--step", action="append", metavar="KEY", help="a step (repeatable)")
    scope.add_argument("--wave", type=int, metavar="N", help="every step of wave N")
    scope.add_argument("--all", action="store_true", help="every step of the plan")
    p.add_argument(
        "--format",
        choices=("md", "yaml", "json", "csv"),
        default="md",
        help="output format (default: md)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="output directory (default: <workspace>/playbooks)",
    )
    p.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="your copy of playbooks/ templates (jinja2) to render md with",
    )
    p.add_argument(
        "--overlap-days",
        type=int,
        default=14,
        metavar="N",
        help="overlap window in days for the schedule (default: 14)",
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_playbook)


def _playbook(args: argparse.Namespace) -> int:
    from workbench.migration import open_campaign
    from workbench.migration.playbooks import export
    from workbench.workspace import chain_head

    with open_campaign(args.workspace) as campaign:
        paths = export(
            campaign,
            steps=args.step,
            wave=args.wave,
            fmt=args.format,
            out_dir=args.output,
            templates_dir=args.templates,
            overlap_days=args.overlap_days,
        )
        head = chain_head(campaign.workspace).to_dict()  # what the tickets are bound to
    if args.json:
        print_json({"format": args.format, "files": [str(p) for p in paths], "audit_head": head})
    else:
        for path in paths:
            print(path)
        print(f"{len(paths)} file(s) written")
    return 0
