"""``workbench drill``: revocation drills (revoke, canary), the emergency key kill, and the
stored drill reports (show, ticket)."""

from __future__ import annotations

import argparse
import sys

from workbench.cli._common import add_json_arg, add_workspace_arg, eprint, print_json, print_table
from workbench.states import Verdict

__all__ = ["register"]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds between 0 and 3600, e.g. 60")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``drill`` and its actions to the top-level parser."""
    drill = sub.add_parser(
        "drill",
        help="revocation drills: prove a compromised credential dies everywhere, and how fast",
        description=(
            "Test revocation as a control: revoke, push the CRLs to every gateway, and probe "
            "every entry point until the credential is refused, measuring time-to-refusal. "
            "Each drill is audited and stored in the workspace (`drill show`, `drill ticket`)."
        ),
        epilog="Exit status: 0 PASS, 1 FAIL or ERROR, 2 bad input or usage.",
    )
    actions = drill.add_subparsers(dest="drill_command", metavar="ACTION")
    drill.set_defaults(func=lambda args: _usage(drill))
    _register_revoke(actions)
    _register_canary(actions)
    _register_kill_key(actions)
    _register_show(actions)
    _register_ticket(actions)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _action(actions, name: str, func, *, common: bool = True, deadline: bool = True, **texts):
    """One ``drill`` action: its parser (``texts``: help, description), the common options
    (workspace, --deadline, --json) unless ``common`` is False, and its function."""
    p = actions.add_parser(name, **texts)
    if common:
        _common(p, deadline=deadline)
    p.set_defaults(func=func)
    return p


def _common(p: argparse.ArgumentParser, *, deadline: bool = True) -> None:
    add_workspace_arg(p)
    if deadline:
        p.add_argument(
            "--deadline",
            type=_seconds,
            default=60.0,
            metavar="SECONDS",
            help="how long every entry point has to refuse (default: 60)",
        )
    add_json_arg(p)


def _open(args: argparse.Namespace):
    from workbench.cli._secrets import passphrase_source
    from workbench.migration import open_campaign

    return open_campaign(args.workspace, passphrase=passphrase_source())


def _progress(args: argparse.Namespace):
    if args.json:
        return None
    return lambda msg: eprint(f"  {msg}")


def _steps(line: str) -> None:
    """What a person must do on a manual gateway: on stderr even with --json (the drill
    waits for them; stdout stays the one JSON document)."""
    eprint(f"  {line}")


def _run_drill(args: argparse.Namespace, drill, *positional, **options) -> int:
    """Open the workspace, run ``drill``, store and print its report (exit 0 only on PASS)."""
    from workbench.drill.store import record_drill

    with _open(args) as campaign:
        report = drill(
            campaign,
            *positional,
            deadline=args.deadline,
            progress=_progress(args),
            steps=_steps,
            **options,
        )
        report = record_drill(campaign.workspace, report)
    return _print_report(args, report)


def _register_revoke(actions) -> None:
    p = _action(
        actions,
        "revoke",
        _revoke,
        help="revoke a service's certificates and prove every entry point refuses them",
        description=(
            "Revoke every active certificate of SERVICE, publish the CRLs, push them to every "
            "gateway in front of an API the service is authorised for (write + validate + "
            "reload), then probe each revoked certificate at every entry point and address "
            "until it is refused or the deadline passes. PASS only when every entry point "
            "refuses every revoked certificate in time, other consumers' certificates are "
            "still accepted and nothing else changed. This is a real revocation."
        ),
    )
    p.add_argument("--service", required=True, metavar="S", help="the service whose certs die")
    p.add_argument(
        "--reason",
        default="keyCompromise",
        help="RFC 5280 revocation reason (default: keyCompromise)",
    )


def _revoke(args: argparse.Namespace) -> int:
    from workbench.drill.revoke import revoke_drill

    return _run_drill(args, revoke_drill, args.service, reason=args.reason)


def _register_canary(actions) -> None:
    p = _action(
        actions,
        "canary",
        _canary,
        help="the revoke drill on a throwaway canary identity (safe on a schedule)",
        description=(
            "Issue a canary identity, authorise it on the chosen APIs (default: every API "
            "whose gateway accepts certificates), show it accepted, revoke it, push the "
            "CRLs, show it refused everywhere, then take its authorisation away again and "
            "prove none is left. No real consumer is touched."
        ),
    )
    p.add_argument(
        "--api",
        action="append",
        metavar="API",
        help="an API to run it on (repeatable; default: every API in dual or mtls)",
    )


def _canary(args: argparse.Namespace) -> int:
    from workbench.drill.canary import canary_drill

    return _run_drill(args, canary_drill, apis=args.api)


def _register_kill_key(actions) -> None:
    p = _action(
        actions,
        "kill-key",
        _kill_key,
        help="incident response: retire a step's static key on every gateway at once",
        description=(
            "For a step still in key or dual: retire its static key on every gateway in "
            "front of its API at once, then prove, two-sided, that the key is refused "
            "everywhere and the consumers' certificates are accepted. Refuses, naming who "
            "would break, when a consumer has no certificate yet, unless --force. Never "
            "rolls back on its own: re-enabling a compromised key is a decision for a person."
        ),
    )
    p.add_argument("--step", required=True, metavar="K", help="the step (key id) to kill")
    p.add_argument(
        "--force",
        action="store_true",
        help="kill it even though consumers without a certificate will break",
    )


def _kill_key(args: argparse.Namespace) -> int:
    from workbench.drill.killkey import kill_key

    return _run_drill(args, kill_key, args.step, force=args.force)


def _register_show(actions) -> None:
    p = _action(
        actions,
        "show",
        _show,
        help="the stored drills, or one drill's report",
        description="Without --id: every drill in the workspace. With --id N: its report.",
        deadline=False,
    )
    p.add_argument("--id", type=int, metavar="N", help="the drill to show")


def _show(args: argparse.Namespace) -> int:
    from workbench.drill.store import get_drill, list_drills
    from workbench.migration import open_campaign

    with open_campaign(args.workspace) as campaign:
        ws = campaign.workspace
        if args.id is not None:
            doc = get_drill(ws, args.id)
            if args.json:
                print_json(doc)
            else:
                _print_doc(doc)
            return 0
        drills = list_drills(ws)
    if args.json:
        print_json(drills)
        return 0
    print_table(
        ("id", "kind", "subject", "verdict", "started", "slowest s"),
        [
            (
                d["id"],
                d["kind"],
                d["subject"],
                d["verdict"],
                d["started_at"][:19] + "Z",
                "-" if d["slowest_s"] is None else f"{d['slowest_s']:.3f}",
            )
            for d in drills
        ],
        title=f"drills in {args.workspace}",
    )
    return 0


def _register_ticket(actions) -> None:
    p = _action(
        actions,
        "ticket",
        _ticket,
        help="export a drill as a change/incident ticket (Markdown or JSON)",
        description="Render a stored drill (default: the latest) as a ticket with its evidence.",
        common=False,
    )
    p.add_argument("--id", type=int, metavar="N", help="the drill (default: the latest)")
    p.add_argument("--format", choices=("md", "json"), default="md", help="default: md")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    add_workspace_arg(p)


def _ticket(args: argparse.Namespace) -> int:
    from workbench.drill.store import get_drill
    from workbench.drill.ticket import render_ticket
    from workbench.migration import open_campaign
    from workbench.workspace import chain_head

    with open_campaign(args.workspace) as campaign:
        doc = get_drill(campaign.workspace, args.id)
        head = chain_head(campaign.workspace)
    chain = (head.seq, head.hash)
    text = render_ticket(doc, fmt=args.format, chain_head=chain)
    if args.output:
        from pathlib import Path

        from workbench.inventory import check_output_target
        from workbench.workspace import atomic_write

        atomic_write(check_output_target(Path(args.output)), text.encode(), mode=0o644)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _print_report(args: argparse.Namespace, report) -> int:
    from workbench.drill.store import report_document

    doc = report_document(report)
    if args.json:
        print_json(doc)
    else:
        _print_doc(doc)
    return 0 if report.verdict == Verdict.PASS else 1


def _print_doc(doc: dict) -> None:
    rows = [
        (
            e["gateway"],
            e["entry_point"] + ("" if e["address"] in e["entry_point"] else f" @ {e['address']}"),
            _s(e["first_refusal_s"]),
            _s(e["stable_s"]),
            e["probes"],
            "refused" if e["refused"] else e["last_outcome"],
        )
        for e in doc["entry_points"]
    ]
    print_table(
        ("gateway", "entry point", "first refusal s", "stable s", "probes", "result"),
        rows,
        title=f"drill {doc.get('id', '-')}: {doc['kind']} {doc['subject']}: {doc['verdict']}",
    )
    for g in doc["gateways"]:
        crl = g.get("crl") or {}
        if g.get("change"):  # a manual gateway: a person did the change (or not)
            done = g.get("applied_after_s")
            pushed = f"change {g['change']} " + (
                f"recorded after {_s(done)} s" if done is not None else "NOT recorded"
            )
        else:
            pushed = f"push {_s(g.get('push_s'))} s"
        print(
            f"gateway {g['id']} ({g['kind']}/{g['server']}): {pushed}, "
            f"CRL {crl.get('number', '-')}, time to refusal median {_s(g.get('median_s'))} s, "
            f"worst {_s(g.get('worst_s'))} s"
        )
    slowest = doc.get("slowest")
    if slowest:
        print(f"slowest: {slowest['entry_point']} after {slowest['stable_s']:.3f} s")
    for line in doc["reasons"]:
        print(f"  - {line}")
    print(f"verdict: {doc['verdict']}")


def _s(value) -> str:
    return "-" if value is None else f"{value:.3f}"
