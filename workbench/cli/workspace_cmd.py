"""Workspace commands: ``init``, ``status``, ``audit verify`` and ``audit show``.

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
    _register_init(sub)
    _register_status(sub)
    _register_audit(sub)


# --- init / status -------------------------------------------------------------------------


def _register_init(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="create a workspace: plan snapshot, step states, local CA, audit log",
        description=(
            "Create a workspace for INVENTORY: validate it, snapshot the plan, create a root CA "
            "and an issuing intermediate (keys encrypted with the passphrase from "
            "WORKBENCH_CA_PASSPHRASE, or a prompt), and start the audit log. Re-running it "
            "completes a workspace left half-made by a crash and refreshes the plan snapshot."
        ),
    )
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file (YAML or JSON)")
    add_workspace_arg(p)
    p.add_argument("--trust-domain", help="SPIFFE trust domain (default: the inventory's)")
    p.add_argument(
        "--algorithm",
        choices=("ec-p256", "rsa-3072", "ed25519"),
        default="ec-p256",
        help="CA key algorithm (default: ec-p256)",
    )
    p.add_argument("--policy", metavar="FILE", help="scoring policy YAML (default: built in)")
    vault = p.add_argument_group(
        "issuing through Vault or OpenBao PKI",
        "VAULT_ADDR, VAULT_TOKEN (or VAULT_ROLE_ID + VAULT_SECRET_ID for AppRole), VAULT_CACERT "
        "and VAULT_NAMESPACE come from the environment, as for Vault's own CLI. Keys stay here; "
        "only CSRs are sent; the token is never stored.",
    )
    vault.add_argument(
        "--issuer",
        choices=("local", "vault"),
        default=None,
        help="who signs certificates: local (a CA in the workspace, the default) or vault",
    )
    vault.add_argument("--vault-mount", metavar="PATH", help="PKI engine mount, e.g. pki")
    vault.add_argument("--vault-role", metavar="ROLE", help="role that signs client certificates")
    vault.add_argument(
        "--vault-server-role",
        metavar="ROLE",
        help="role for the gateway's TLS certificate (default: a local CA signs it)",
    )
    vault.add_argument(
        "--vault-root-mount",
        metavar="PATH",
        help="mount of the root when --vault-mount issues from an intermediate (for its CRL)",
    )
    p.add_argument(
        "--strategy",
        choices=("risk-first", "pilot-first"),
        default="risk-first",
        help="wave strategy (default: risk-first)",
    )
    p.add_argument(
        "--wave-size",
        type=_positive_int,
        default=5,
        metavar="N",
        help="maximum steps per wave (default: 5)",
    )
    add_json_arg(p)
    p.set_defaults(func=_init)


def _init(args: argparse.Namespace) -> int:
    from workbench.cli._secrets import ca_passphrase
    from workbench.migration import init_workspace

    target = _vault_target(args)
    # A Vault workspace with a server role holds no CA key at all: no passphrase to ask for.
    no_key = target is not None and target.server_role and not _has_local_ca(args.workspace)
    result = init_workspace(
        args.inventory,
        args.workspace,
        passphrase=None if no_key else ca_passphrase(confirm=True),
        issuer=args.issuer,
        vault=target,
        trust_domain=args.trust_domain,
        algorithm=args.algorithm,
        policy_path=args.policy,
        strategy=args.strategy,
        wave_size=args.wave_size,
    )
    if args.json:
        print_json(result)
    else:
        made = "created" if result.created_workspace else "already there, plan refreshed"
        print(f"workspace {result.directory}: {made}")
        if result.issuer == "vault":
            print(
                f"  issuer (trust domain {result.trust_domain}): "
                f"{'connected' if result.created_ca else 'kept'}: {result.issuer_detail}"
            )
        else:
            print(
                f"  CA ({result.ca_algorithm}, trust domain {result.trust_domain}): "
                f"{'created' if result.created_ca else 'kept'} in {result.directory / 'ca'}"
            )
        print(f"  plan: {result.steps} steps in {result.waves} waves")
    return 0


def _vault_target(args: argparse.Namespace):
    """The --vault-* settings (None unless --issuer vault); usage errors exit 2."""
    from workbench.errors import InputError

    given = ("vault_mount", "vault_role", "vault_server_role", "vault_root_mount")
    if args.issuer != "vault":
        named = [f"--{f.replace('_', '-')}" for f in given if getattr(args, f)]
        if named:
            verb = "needs" if len(named) == 1 else "need"
            raise InputError(f"{', '.join(named)} {verb} --issuer vault")
        return None
    missing = [f"--{f.replace('_', '-')}" for f in given[:2] if not getattr(args, f)]
    if missing:
        raise InputError(f"--issuer vault needs {' and '.join(missing)}")
    from workbench.pki.vault import VaultTarget

    return VaultTarget(
        args.vault_mount, args.vault_role, args.vault_server_role, args.vault_root_mount
    )


def _has_local_ca(workspace) -> bool:  # noqa: ANN001
    from workbench.migration.campaign import CA_DIR

    return (workspace / CA_DIR / "ca.json").exists()


def _register_status(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "status",
        help="steps with their state, certificates with their expiry",
        description="Show every step's state and latest verdict, and the active certificates.",
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    from workbench.drill.status import crl_status
    from workbench.migration import open_campaign, status_report
    from workbench.workspace import chain_head

    with open_campaign(args.workspace) as campaign:
        report = status_report(campaign)
        head = chain_head(campaign.workspace)  # the state below is bound to this record
        crls = crl_status(campaign)
    if args.json:
        print_json(
            {
                "crl": crls,
                "workspace": report.directory,
                "audit_head": head.to_dict(),
                "trust_domain": report.trust_domain,
                "counts": report.counts(),
                "steps": [
                    {
                        "key": s.step.key,
                        "wave": s.step.wave,
                        "api": s.step.api,
                        "state": s.step.state,
                        "latest_verdict": s.latest_verdict,
                        "certificates": [
                            {
                                "service": c.service,
                                "serial": c.serial,
                                "spiffe_id": c.spiffe_id,
                                "not_after": c.not_after,
                            }
                            for c in s.certificates
                        ],
                    }
                    for s in report.steps
                ],
                "gateway_certificates": [
                    {"serial": c.serial, "not_after": c.not_after}
                    for c in report.gateway_certificates
                ],
            }
        )
        return 0
    rows = []
    for s in report.steps:
        soonest = min((c.not_after for c in s.certificates), default=None)
        rows.append(
            (
                s.step.wave,
                s.step.key,
                s.step.api,
                s.step.state,
                len(s.certificates),
                _expiry(soonest, report.now),
                s.latest_verdict or "-",
            )
        )
    print_table(
        ("wave", "step", "api", "state", "certs", "expires", "verdict"),
        rows,
        title=f"workspace {report.directory} (trust domain {report.trust_domain})",
    )
    print(", ".join(f"{n} {state}" for state, n in sorted(report.counts().items())))
    print(f"audit chain head: {head.anchor}  (check later: workbench audit verify --anchor ...)")
    _print_crls(crls, report.now)
    return 0


def _print_crls(crls, now) -> None:
    """Per gateway: the CRL it serves (number, thisUpdate, nextUpdate) and any warning."""
    for c in crls:
        if c.number is None:
            print(f"CRL at gateway {c.gateway} ({c.server}): {c.state}")
        else:
            print(
                f"CRL at gateway {c.gateway} ({c.server}): number {c.number}, thisUpdate "
                f"{c.this_update:%Y-%m-%d %H:%M}Z, nextUpdate {_expiry(c.next_update, now)}"
            )
        if c.warning:
            print(f"warning: {c.warning}", file=sys.stderr)


def _expiry(when, now) -> str:
    if when is None:
        return "-"
    left = when - now
    if left.total_seconds() <= 0:
        return f"EXPIRED {when:%Y-%m-%d %H:%M}Z"
    return f"{when:%Y-%m-%d %H:%M}Z ({left.days}d {left.seconds // 3600}h)"


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
            "with audit.jsonl; check that every step state, verdict and active certificate in "
            "the database is the one the chain records; and that every --anchor (the chain "
            "head an export printed, SEQ:HASH) is still in the chain. Exit 0 when intact, 1 "
            "with the first broken record or row otherwise."
        ),
        epilog="Exit status: 0 intact, 1 tampered or broken, 2 no workspace.",
    )
    verify.add_argument(
        "--anchor",
        action="append",
        type=_anchor,
        default=[],
        metavar="SEQ:HASH",
        help="a chain head quoted by an export (ticket, status --json); repeatable",
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


def _anchor(text: str):
    from workbench.errors import InputError
    from workbench.workspace import parse_anchor

    try:
        return parse_anchor(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _audit_verify(args: argparse.Namespace) -> int:
    from workbench.workspace import Workspace, check_anchors, check_state, verify_audit

    with Workspace.open(args.workspace) as ws:
        check = verify_audit(ws)
        records = ws.audit_records()
        broken = None
        if check.first_broken_seq is not None:
            found = [r for r in records if r.seq == check.first_broken_seq]
            broken = found[0].to_dict() if found else None
        lost = check_anchors(records, args.anchor)
        state = check_state(ws, records) if check.ok else None
    ok = check.ok and lost is None and state is not None and state.ok
    if args.json:
        print_json(
            {
                **_check_dict(check),
                "ok": ok,
                "chain_ok": check.ok,
                "first_broken_record": broken,
                "anchors": [a.anchor for a in args.anchor],
                "anchor_lost": None
                if lost is None
                else {"anchor": lost[0].anchor, "reason": lost[1]},
                "state": None if state is None else _check_dict(state),
            }
        )
        return 0 if ok else 1
    status = "OK" if check.ok else "BROKEN"
    print(f"audit {status}: {check.reason}")
    if not check.ok:
        print(f"first broken record: seq {check.first_broken_seq}")
        if broken:
            print(
                f"  {broken['time']}  {broken['action']}  {broken['subject']}  "
                f"hash {broken['hash'][:16]}"
            )
    if lost is not None:
        print(f"anchor LOST: {lost[0].anchor}: {lost[1]}")
    elif args.anchor:
        print(f"anchors OK: {len(args.anchor)} still in the chain")
    if state is not None:
        where = f" (table {state.table}, row {state.row})" if not state.ok else ""
        print(f"state {'OK' if state.ok else 'MISMATCH'}: {state.reason}{where}")
    for note in check.notes:
        print(f"note: {note}")
    return 0 if ok else 1


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
