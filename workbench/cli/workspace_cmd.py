"""Workspace commands: ``audit verify`` and ``audit show`` (``init``/``status`` come later).

Each command group has its own ``_register_<group>(sub)`` function; ``register`` calls them
in --help order, so adding ``init`` and ``status`` is one function each.
"""

from __future__ import annotations

import argparse
import sys

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json, print_table

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    _register_audit(sub)


# --- audit ---------------------------------------------------------------------------------


def _register_audit(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser(
        "audit",
        help="verify or show the workspace audit log",
        description=(
            "The audit log is append-only and hash-chained, kept in the workspace database "
            "and mirrored in audit.jsonl."
        ),
    )
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    audit.set_defaults(func=lambda args: _usage(audit))

    verify = audit_sub.add_parser(
        "verify",
        help="check the hash chain and that the database and audit.jsonl agree",
        description=(
            "Recompute every record's hash, check the chain links and compare the database "
            "with audit.jsonl. Exit 0 when intact, 1 with the first broken record otherwise."
        ),
        epilog="Exit status: 0 intact, 1 tampered or broken, 2 no workspace.",
    )
    add_workspace_arg(verify)
    add_json_arg(verify)
    verify.set_defaults(func=_audit_verify)

    show = audit_sub.add_parser(
        "show",
        help="list audit records (seq, time, action, subject, short hash)",
        description="List the audit records in the workspace database, oldest first.",
    )
    add_workspace_arg(show)
    add_json_arg(show)
    show.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="show only the last N records",
    )
    show.set_defaults(func=_audit_show)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _audit_verify(args: argparse.Namespace) -> int:
    from workbench.workspace import Workspace, verify_audit

    with Workspace.open(args.workspace) as ws:
        check = verify_audit(ws)
        broken = None
        if check.first_broken_seq is not None:
            found = [r for r in ws.audit_records() if r.seq == check.first_broken_seq]
            broken = found[0].to_dict() if found else None
    if args.json:
        print_json({**_check_dict(check), "first_broken_record": broken})
    else:
        status = "OK" if check.ok else "BROKEN"
        print(f"audit {status}: {check.reason}")
        if not check.ok:
            print(f"first broken record: seq {check.first_broken_seq}")
            if broken:
                print(
                    f"  {broken['time']}  {broken['action']}  {broken['subject']}  "
                    f"hash {broken['hash'][:16]}"
                )
        for note in check.notes:
            print(f"note: {note}")
    return 0 if check.ok else 1


def _check_dict(check: object) -> dict:
    from dataclasses import asdict

    return asdict(check)  # type: ignore[call-overload]


def _audit_show(args: argparse.Namespace) -> int:
    from workbench.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        records = ws.audit_records(limit=args.limit)
    if args.json:
        print_json([r.to_dict() for r in records])
        return 0
    print_table(
        ("seq", "time", "action", "subject", "hash"),
        ((r.seq, r.time, r.action, r.subject, r.hash[:12]) for r in records),
        title=f"audit log ({len(records)} record(s))",
    )
    return 0
