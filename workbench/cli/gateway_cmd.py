"""Gateway commands: ``gateway set-mode``, ``gateway applied`` (manual gateways), ``usage``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json
from workbench.gateway.spec import MODES

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    gw = sub.add_parser(
        "gateway",
        help="change the mode of a step's API on its gateway (key, dual, mtls)",
        description=(
            "Change the mode of a step's API on the gateway that fronts it (the lab, or the "
            "inventory's nginx / HAProxy / manual gateway): key (static key only), dual "
            "(certificate or key: the overlap), mtls (the step's key retired). The owned "
            "config is rendered, written, validated, reloaded and confirmed, then audited; "
            "on any failure the previous file is restored. A manual gateway gets written "
            "instructions instead; record their application with `gateway applied`."
        ),
    )
    gw_sub = gw.add_subparsers(dest="gateway_command", metavar="ACTION")
    gw.set_defaults(func=lambda args: (gw.print_help(), 2)[1])
    p = gw_sub.add_parser(
        "set-mode", help="set the step's API mode", description="Set the step's API mode."
    )
    p.add_argument(
        "mode",
        choices=MODES,
        help="the new mode (mtls+token: certificate plus a bound access token)",
    )
    p.add_argument("--step", required=True, metavar="KEY", help="the step (key id)")
    p.add_argument(
        "--force",
        action="store_true",
        help="change a verified step anyway (it leaves verified and must be verified again)",
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_set_mode)
    a = gw_sub.add_parser(
        "applied",
        help="record that an operator applied a manual gateway's change",
        description=(
            "For an API behind a manual gateway: record that the operator applied the "
            "instructions `gateway set-mode` (or `cutover`) wrote, so the step moves on and "
            "`cutover` can verify it (--step K --mode M); or that the operator did the steps "
            "a drill wrote, e.g. installing a new CRL (--gateway G --change ID: the last "
            "line of the steps names them), so the waiting drill goes on."
        ),
    )
    a.add_argument("--step", metavar="KEY", help="the step (key id); with --mode")
    a.add_argument(
        "--mode",
        choices=MODES,
        help="the mode now in force",
    )
    a.add_argument("--gateway", metavar="G", help="the manual gateway; with --change")
    a.add_argument("--change", metavar="ID", help="the drill's change, e.g. crl-7")
    add_workspace_arg(a)
    add_json_arg(a)
    a.set_defaults(func=_applied)
    y = gw_sub.add_parser(
        "sync",
        help="re-apply every driven gateway's current modes with the current CRLs",
        description=(
            "Render each nginx / HAProxy gateway of the inventory (and the running lab) with "
            "its current modes and the workspace's current CRLs, then write, validate, reload "
            "and confirm it. Use it once to put the owned file in place, and after `workbench "
            "crl` so revocations take effect."
        ),
    )
    add_workspace_arg(y)
    add_json_arg(y)
    y.set_defaults(func=_sync)

    u = sub.add_parser(
        "usage",
        help="who still used a step's old key, and when last (gateway access logs)",
        description=(
            "Read the managed gateway's access log and report requests that presented the "
            "step's old key (matched by fingerprint; the key itself is never logged): count, "
            "accepted or refused, first and last seen, client addresses and user agents. "
            "Check it before cutting over: exit 1 while the key is still accepted."
        ),
    )
    u.add_argument("--step", required=True, metavar="KEY", help="the step (key id)")
    u.add_argument(
        "--since",
        type=_time,
        metavar="T",
        help="only requests at or after T (ISO 8601, e.g. 2026-11-22T10:00Z)",
    )
    add_workspace_arg(u)
    add_json_arg(u)
    u.set_defaults(func=_usage)


def _time(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad time {text!r}: use ISO 8601") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _open(args: argparse.Namespace):
    from workbench.cli._secrets import open_workspace_campaign

    return open_workspace_campaign(args)


def _set_mode(args: argparse.Namespace) -> int:
    from workbench.migration.gateway_ops import set_step_mode
    from workbench.migration.verification import guard_verified_change

    with _open(args) as campaign:
        guard_verified_change(campaign, args.step, force=args.force)
        change = set_step_mode(campaign, args.step, args.mode, pending_ok=True)
    _show_change(change, args.json)
    return 0


def _applied(args: argparse.Namespace) -> int:
    from workbench.errors import InputError
    from workbench.migration.gateway_ops import record_applied

    by_change = args.gateway is not None or args.change is not None
    if by_change == (args.step is not None or args.mode is not None) or (
        (args.gateway is None) != (args.change is None)
        or (args.step is None) != (args.mode is None)
    ):
        raise InputError(
            "gateway applied: give either --step KEY --mode MODE (a mode change) or "
            "--gateway G --change ID (a drill's steps)"
        )
    if by_change:
        from workbench.drill.gateways import record_manual_change

        with _open(args) as campaign:
            record = record_manual_change(campaign, args.gateway, args.change)
        if args.json:
            print_json(record)
        else:
            print(f"gateway {args.gateway}: change {args.change} recorded as applied")
        return 0
    with _open(args) as campaign:
        change = record_applied(campaign, args.step, args.mode)
    _show_change(change, args.json)
    return 0


def _sync(args: argparse.Namespace) -> int:
    from workbench.migration.gateway_ops import push_crls

    with _open(args) as campaign:
        done = push_crls(campaign)
    if args.json:
        print_json({"gateways": done})
    else:
        print(f"re-applied: {', '.join(done) or 'no gateway'}")
    return 0


def _show_change(change, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        print_json(change)
        return
    kept = ", ".join(change.keys_accepted) or "none"
    if not change.applied:
        print(
            f"{change.api} on manual gateway {change.gateway}: "
            f"{change.from_mode} -> {change.to_mode} NOT applied yet"
        )
        for line in change.instructions:
            print(f"  {line}")
        return
    print(
        f"{change.api} ({change.gateway}): {change.from_mode} -> {change.to_mode} "
        f"(keys still accepted: {kept}; config {change.config_sha256[:12]})"
    )


def _usage(args: argparse.Namespace) -> int:
    from workbench.migration.usage import step_usage

    with _open(args) as campaign:
        report = step_usage(campaign, args.step, since=args.since)
    if args.json:
        data = {k: v for k, v in vars(report).items()}
        data["still_used"] = report.still_used
        print_json(data)
    else:

        def when(t):
            return t.isoformat(timespec="seconds") if t else "never"

        print(f"old key of {args.step} (fp {report.key_fingerprint}) on {report.api}:")
        print(f"  {report.requests} requests, {report.accepted} accepted, {report.refused} refused")
        print(
            f"  first seen {when(report.first_seen)}, last seen {when(report.last_seen)}, "
            f"last accepted {when(report.last_accepted)}"
        )
        for client, count, last in report.clients:
            print(f"  {client}: {count} request(s), last {when(last)}")
        if report.client_ips:
            print(f"  client addresses: {', '.join(report.client_ips)}")
        print(
            "  STILL IN USE: do not cut over yet"
            if report.still_used
            else "  not accepted in this window"
        )
    return 1 if report.still_used else 0
