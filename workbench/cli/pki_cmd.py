"""Certificate commands: ``issue``, ``revoke``, ``crl``, ``renew``."""

from __future__ import annotations

import argparse
from datetime import timedelta

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json, print_table, progress

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    _register_issue(sub)
    _register_revoke(sub)
    _register_crl(sub)
    _register_renew(sub)


def _duration(text: str) -> timedelta:
    """`12h`, `7d`, `90m`: a lifetime or window."""
    units = {"m": 60, "h": 3600, "d": 86400}
    try:
        value, unit = int(text[:-1]), text[-1]
        if value <= 0 or unit not in units:
            raise ValueError
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(
            f"bad duration {text!r}: use a whole number with m, h or d, e.g. 7d"
        ) from None
    return timedelta(seconds=value * units[unit])


def _open(args: argparse.Namespace):
    from workbench.cli._secrets import open_workspace_campaign

    return open_workspace_campaign(args)


# --- issue ---------------------------------------------------------------------------------


def _register_issue(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "issue",
        help="issue client certificates for every consumer of a step (or a wave)",
        description=(
            "For every consumer of the step's key: an EC P-256 key (0600), a client certificate "
            "(SAN spiffe://<trust-domain>/<environment>/<service>, EKU clientAuth), the chain "
            "file and, when WORKBENCH_P12_PASSWORD is set, a PKCS#12 bundle. Idempotent: a "
            "re-run issues nothing new unless --renew."
        ),
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--step", metavar="KEY", help="the step (key id) to issue for")
    target.add_argument("--wave", type=int, metavar="N", help="every step of wave N")
    add_workspace_arg(p)
    p.add_argument("--renew", action="store_true", help="issue new certificates even if active")
    p.add_argument(
        "--lifetime",
        type=_duration,
        default=timedelta(days=7),
        help="certificate lifetime, e.g. 12h or 7d (default: 7d)",
    )
    p.add_argument(
        "--key-algorithm",
        choices=("ec-p256", "rsa-3072", "ed25519"),
        default="ec-p256",
        help="leaf key algorithm (default: ec-p256)",
    )
    p.add_argument("--p12-alias", metavar="ALIAS", help="PKCS#12 alias (default: service id)")
    p.add_argument(
        "--concurrency",
        type=_positive_count,
        default=8,
        metavar="N",
        help="signing requests in flight with a Vault issuer (default: 8)",
    )
    add_json_arg(p)
    p.set_defaults(func=_issue)


def _positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("use 1 to 64")
    return value


def _issue(args: argparse.Namespace) -> int:
    from workbench.migration.issuance import issue_steps

    with _open(args) as campaign:
        ws = campaign.workspace
        keys = [args.step] if args.step else campaign.wave_steps(args.wave)
        total = sum(len(campaign.inventory.consumers_of(k)) for k in keys)
        with progress("issuing", total, enabled=not args.json) as advance:
            outcomes = issue_steps(
                campaign,
                keys,
                renew=args.renew,
                lifetime=args.lifetime,
                key_algorithm=args.key_algorithm,
                p12_alias=args.p12_alias,
                progress=advance,
                concurrency=args.concurrency,
            )
        if args.json:
            print_json(
                [
                    {
                        "step": o.step,
                        "state": o.state,
                        "issued": list(o.issued),
                        "certificates": [_cert_json(c) for c in o.certificates],
                    }
                    for o in outcomes
                ]
            )
            return 0
        rows = []
        for o in outcomes:
            for c in o.certificates:
                rows.append(
                    (
                        o.step,
                        c.service,
                        c.serial[:16],
                        c.spiffe_id,
                        f"{c.not_after:%Y-%m-%d %H:%M}Z",
                        "new" if c.service in o.issued else "kept",
                        c.cert_path,
                    )
                )
        print_table(
            ("step", "service", "serial", "identity", "not after", "", "certificate"),
            rows,
            title=f"certificates in {ws.directory}",
        )
        new = sum(len(o.issued) for o in outcomes)
        print(
            f"{new} issued, {len(rows) - new} already active; keys are 0600 under "
            f"{ws.directory / 'certs'}"
        )
    return 0


def _cert_json(c) -> dict:
    return {
        "service": c.service,
        "serial": c.serial,
        "spiffe_id": c.spiffe_id,
        "not_before": c.not_before,
        "not_after": c.not_after,
        "sha256": c.sha256,
        "x5t#S256": c.x5t_s256,
        "cert": c.cert_path,
        "key": c.key_path,
        "chain": c.chain_path,
        "p12": c.p12_path,
        "status": c.status,
    }


# --- revoke / crl --------------------------------------------------------------------------


def _register_revoke(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "revoke",
        help="revoke a certificate (by serial) or a service's certificates, and publish CRLs",
        description="Mark certificates revoked in the workspace and publish fresh CRLs.",
    )
    p.add_argument("serial", nargs="?", metavar="SERIAL", help="serial number (hex)")
    p.add_argument("--service", metavar="S", help="revoke every active certificate of S")
    p.add_argument(
        "--reason",
        default="unspecified",
        help="RFC 5280 reason: keyCompromise, superseded, cessationOfOperation, ...",
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_revoke)


def _revoke(args: argparse.Namespace) -> int:
    from workbench.migration import revoke

    with _open(args) as campaign:
        done, crl = revoke(campaign, serial=args.serial, service=args.service, reason=args.reason)
    if args.json:
        print_json({"revoked": [_cert_json(c) for c in done], "crl": crl})
        return 0
    for c in done:
        print(f"revoked {c.serial} ({c.service}, {c.reason})")
    if crl:
        print(f"CRL #{crl.number} published: {crl.combined}")
    return 0


def _register_crl(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "crl",
        help="publish CRLs for the issuing CA and the root",
        description=(
            "Write CRL v2 files (nextUpdate set, increasing CRL number) for the intermediate and "
            "the root, and one combined file: nginx ssl_crl and openssl -crl_check_all need a "
            "CRL for every CA in the chain."
        ),
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_crl)


def _crl(args: argparse.Namespace) -> int:
    from workbench.migration import publish_crls

    with _open(args) as campaign:
        crl = publish_crls(campaign)
    if args.json:
        print_json(crl)
    else:
        print(f"CRL #{crl.number} ({crl.revoked} revoked): {crl.combined}")
    return 0


# --- renew ---------------------------------------------------------------------------------


def _register_renew(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "renew",
        help="re-issue client certificates that expire soon",
        description=(
            "Re-issue active client certificates expiring within --before. Renewal changes the "
            "certificate's x5t#S256: access tokens bound to the old one (RFC 8705) stop "
            "working, and the command says which."
        ),
    )
    add_workspace_arg(p)
    p.add_argument(
        "--before",
        type=_duration,
        default=timedelta(days=2),
        help="renew what expires within this window (default: 2d)",
    )
    p.add_argument("--step", metavar="KEY", help="only this step")
    p.add_argument("--all", action="store_true", help="renew every active certificate now")
    add_json_arg(p)
    p.set_defaults(func=_renew)


def _renew(args: argparse.Namespace) -> int:
    from workbench.cli._common import eprint
    from workbench.migration import renew_expiring

    with _open(args) as campaign:
        out = renew_expiring(campaign, renew_before=args.before, step=args.step, force=args.all)
    if args.json:
        print_json(out)
        return 0
    for step, service, old, new in out.renewed:
        print(f"{step}: {service} {old[:16]} -> {new[:16]}")
    for w in out.bound_token_warnings:
        eprint(f"warning: {w}")
    print(f"{len(out.renewed)} renewed")
    return 0
