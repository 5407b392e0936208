"""``workbench verify``: prove a cut-over fail-closed (new cert accepted, old key refused).

Standalone form: ``workbench verify URL --header NAME --old-key-env VAR --cert F --key F
--ca F``. The workspace forms (``--step``, ``--wave``) plug in through
:func:`add_standalone_args` / :func:`run_standalone` and :func:`report`.
Exit status: 0 only on PASS; 1 for FAIL, INCONCLUSIVE or ERROR; 2 for bad usage.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import add_json_arg, print_json, print_table
from workbench.errors import VerifyError

__all__ = ["add_standalone_args", "register", "report", "run_standalone"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "verify",
        help="prove a cut-over: new cert accepted, old key and no credentials refused",
        description=(
            "Probe an HTTPS endpoint on fresh TLS connections to one pinned IP: the new client "
            "certificate must get a 2xx, the old static key alone and a request without "
            "credentials must be refused (401/403, nginx 400/495/496, or a TLS alert). "
            "Anything ambiguous is not a PASS."
        ),
        epilog="Exit status: 0 PASS; 1 FAIL, INCONCLUSIVE or ERROR; 2 bad usage.",
    )
    add_standalone_args(p)
    add_json_arg(p)
    p.set_defaults(func=handle)


def add_standalone_args(p: argparse.ArgumentParser) -> None:
    """Options of the standalone form (URL is optional so other forms can be added)."""
    p.add_argument("url", nargs="?", metavar="URL", help="https:// URL to probe (health path)")
    p.add_argument("--header", default="X-API-Key", metavar="NAME", help="old key's header")
    old = p.add_mutually_exclusive_group()
    old.add_argument("--old-key-env", metavar="VAR", help="environment variable with the old key")
    old.add_argument(
        "--old-key-file", type=Path, metavar="FILE", help="file with the old key (mode 0600)"
    )
    p.add_argument("--cert", type=Path, metavar="FILE", help="new client certificate chain (PEM)")
    p.add_argument("--key", type=Path, metavar="FILE", help="new client private key (PEM)")
    p.add_argument("--ca", type=Path, metavar="FILE", help="CA file trusted for the server cert")
    for name, what in (
        ("foreign", "a certificate from another CA"),
        ("revoked", "a revoked certificate"),
        ("other", "another service's certificate"),
    ):
        p.add_argument(f"--{name}-cert", type=Path, metavar="FILE", help=f"{what}: must be refused")
        p.add_argument(f"--{name}-key", type=Path, metavar="FILE", help=f"key of --{name}-cert")
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="per-probe timeout (default 5)"
    )


def _pair(args: argparse.Namespace, name: str):
    from workbench.verify import CertIdentity

    cert, key = getattr(args, f"{name}_cert"), getattr(args, f"{name}_key")
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise VerifyError(f"--{name}-cert and --{name}-key go together; give both")
    return CertIdentity(cert, key)


def run_standalone(args: argparse.Namespace):
    """Build the target and identities from the standalone options and run the verifier."""
    from workbench.secrets import resolve_secret_ref
    from workbench.verify import CertIdentity, Identities, Target, run_verify

    given = {"URL": args.url, "--cert": args.cert, "--key": args.key, "--ca": args.ca}
    missing = [opt for opt, val in given.items() if val is None]
    if not (args.old_key_env or args.old_key_file):
        missing.append("--old-key-env or --old-key-file")
    if missing:
        raise VerifyError(f"verify: missing {', '.join(missing)} (see 'workbench verify --help')")
    if args.timeout <= 0:
        raise VerifyError("verify: --timeout must be a positive number of seconds")
    ref = f"env:{args.old_key_env}" if args.old_key_env else f"file:{args.old_key_file}"
    old_key = resolve_secret_ref(ref, Path.cwd())
    identities = Identities(
        new_cert=CertIdentity(args.cert, args.key),
        old_key=old_key,
        server_ca=args.ca,
        foreign_cert=_pair(args, "foreign"),
        revoked_cert=_pair(args, "revoked"),
        other_service_cert=_pair(args, "other"),
    )
    return run_verify(Target(args.url, header=args.header), identities, timeout=args.timeout)


def verdict_json(result) -> dict:
    """The ``--json`` document of one result (no secret: evidence holds fingerprints only)."""
    from dataclasses import asdict

    from workbench.cli._common import to_jsonable

    v = result.verdict
    probes = []
    for p in v.probes:
        evidence = asdict(p.evidence)
        evidence.pop("body", None)  # may echo what was sent; only its hash and length are kept
        probes.append(
            {
                "name": p.name,
                "expected": p.expected,
                "observed": p.observed,
                "outcome": p.outcome,
                "evidence": to_jsonable(evidence),
            }
        )
    return {
        "url": result.target.url,
        "verdict": v.verdict,
        "probes": probes,
        "reasons": list(v.reasons),
        "started": v.started.isoformat(),
        "finished": v.finished.isoformat(),
    }


def report(result, *, as_json: bool) -> int:
    """Print one result and return the exit status (0 only on PASS)."""
    if as_json:
        print_json(verdict_json(result))
    else:
        v = result.verdict
        rows = [(p.name, p.expected, p.observed, p.outcome) for p in v.probes]
        print_table(("probe", "expected", "observed", "outcome"), rows, title=result.target.url)
        for reason in v.reasons:
            print(f"  - {reason}")
        print(f"verdict: {v.verdict}")
    return 0 if result.verdict.passed else 1


def handle(args: argparse.Namespace) -> int:
    return report(run_standalone(args), as_json=args.json)
