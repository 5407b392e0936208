"""``workbench report``: the program report as files (Markdown or HTML, SVG, JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "report",
        help="write the program report: how far the move off static keys has come",
        description=(
            "Write the program report of a workspace into a directory, for a steering "
            "committee: the share of APIs and keys that are sender-constrained (mtls, "
            "mtls+token), static keys retired and remaining by data class, time from a key's "
            "discovery to its retirement, client certificates expiring soon, live bound "
            "tokens a renewal would break, open findings (shared, cross-environment, "
            "third-party keys) and revocation-drill times (or 'no drill yet'). Writes "
            "report.md or report.html, figures.json and one SVG picture per chart."
        ),
        epilog="Exit status: 0 written, 2 bad input (no workspace, unwritable -o).",
    )
    add_workspace_arg(p)
    p.add_argument(
        "--format", choices=("md", "html"), default="md", help="document format (default: md)"
    )
    p.add_argument(
        "-o", "--output", type=Path, required=True, metavar="DIR",
        help="directory to write into (created if missing; files in it are replaced)",
    )  # fmt: skip
    p.add_argument(
        "--expiring-within", type=_days, default=14.0, metavar="DAYS",
        help="certificates expiring within DAYS count as expiring soon (default 14)",
    )  # fmt: skip
    add_json_arg(p)
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from workbench.migration import open_campaign
    from workbench.report import program_report
    from workbench.report.document import write_report

    with open_campaign(args.workspace) as campaign:
        report = program_report(campaign, expiry_window=timedelta(days=args.expiring_within))
    written = write_report(report, args.output, args.format)
    if args.json:
        print_json({"figures": report.figures(), "files": [str(p) for p in written]})
        return 0
    f = report.figures()
    print(
        f"APIs sender-constrained {f['apis']['sender_constrained']}/{f['apis']['total']}, "
        f"keys retired {f['keys']['retired']}/{f['keys']['total']}, "
        f"{f['certificates_expiring']['count']} certificate(s) expiring soon, "
        f"drills: {'none yet' if not report.drills.any else report.drills.drills}"
    )
    print(f"wrote {written[0]} and {len(written) - 1} more file(s) in {args.output}")
    return 0
