"""``workbench verify``: prove a cut-over fail-closed (new cert accepted, old key refused).

Standalone form (exact, used by automation): ``workbench verify URL [URL ...] --header H
(--old-key-env V | --old-key-file F) --cert C --key K --ca CA [--other-cert F --other-key F]
[--foreign-cert F --foreign-key F] [--revoked-cert F --revoked-key F] [--path P]...
[--repeat N] [--connect-to HOST:PORT:ADDR]... [--json]``. Several URLs are entry points of
one API. The workspace forms (``--step``, ``--wave``) plug in through
:func:`add_standalone_args` / :func:`run_standalone` and :func:`report`. ``cutover`` and
``evidence`` live in :mod:`.cutover_cmd`; the tables all three print, in :mod:`.verdict_output`.
Exit status: 0 only on PASS; 1 for FAIL, INCONCLUSIVE or ERROR; 2 for bad usage.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json
from workbench.errors import VerifyError
from workbench.states import Verdict

__all__ = ["add_probe_options", "add_standalone_args", "register", "report", "run_standalone"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "verify",
        help="prove a cut-over: new cert accepted, old key and no credentials refused",
        description=(
            "Probe an API on fresh TLS connections, each pinned to one address: every entry "
            "point (each URL) at every address it resolves to (A and AAAA). The new client "
            "certificate must get a 2xx on the health path (the URL's path); the old key, in "
            "its header and every common alternate form (Authorization: Bearer, bare "
            "Authorization, query api_key/apikey/key/access_token), alone and beside another "
            "identity's certificate, a request without credentials and a certificate from a "
            "foreign CA must all be refused (401/403, nginx 400/495/496, or a TLS alert), on "
            "the health path and every --path, with GET and POST, each --repeat times. "
            "Anything ambiguous is not a PASS. The standalone form cannot confirm that the "
            "old key was ever live (no before-observation); its report says so."
        ),
        epilog="Exit status: 0 PASS; 1 FAIL, INCONCLUSIVE or ERROR; 2 bad usage.",
    )
    add_standalone_args(p)
    target = p.add_mutually_exclusive_group()
    target.add_argument("--step", metavar="KEY", help="verify a step of the workspace")
    target.add_argument("--wave", type=int, metavar="N", help="verify every step of wave N")
    add_workspace_arg(p)
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=16,
        metavar="N",
        help="probes in flight at once (default 16)",
    )
    p.add_argument(
        "--allow-cross-environment",
        action="store_true",
        help="allow probing a target of another environment (req. 18)",
    )
    add_json_arg(p)
    p.set_defaults(func=handle)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return n


def add_standalone_args(p: argparse.ArgumentParser) -> None:
    """Options of the standalone form (URL is optional so other forms can be added)."""
    p.add_argument(
        "urls",
        nargs="*",
        metavar="URL",
        help="https:// URL of the health path; several URLs are entry points of one API",
    )
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
        "--path",
        dest="paths",
        action="append",
        default=[],
        metavar="P",
        help="another path (absolute, e.g. /v1/charges) for the negative probes (repeatable)",
    )
    add_probe_options(p)


def add_probe_options(p: argparse.ArgumentParser) -> None:
    """How the probes run (``verify`` and ``cutover``): repeats, pinning, User-Agent, timeout."""
    p.add_argument(
        "--repeat",
        default="5",
        metavar="N",
        help="send each negative probe N times on fresh connections (default 5)",
    )
    p.add_argument(
        "--connect-to",
        dest="connect_to",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDR",
        help="pin HOST:PORT to ADDR instead of resolving it (repeatable, several ADDRs allowed)",
    )
    p.add_argument(
        "--user-agent",
        default=None,
        metavar="UA",
        help="User-Agent of the probes (a per-run random token is always appended)",
    )
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="per-probe timeout (default 5)"
    )


def run_options(args: argparse.Namespace):
    """The verifier's Options from the shared flags."""
    from workbench.verify import Options
    from workbench.verify.probe import USER_AGENT

    if args.timeout <= 0:
        raise VerifyError("verify: --timeout must be a positive number of seconds")
    ua = args.user_agent if args.user_agent is not None else USER_AGENT
    if not ua or any(not (32 <= ord(c) < 127) for c in ua):
        raise VerifyError("verify: --user-agent must be printable ASCII, not empty")
    from workbench.verify import parse_connect_to

    repeat = str(args.repeat)
    if not repeat.isdigit() or not 1 <= int(repeat) <= 1000:
        raise VerifyError(f"verify: --repeat {repeat!r} must be a whole number 1-1000")
    return Options(
        repeat=int(repeat),
        timeout=args.timeout,
        concurrency=getattr(args, "concurrency", 16),
        user_agent=ua,
        connect_to=tuple(parse_connect_to(text) for text in args.connect_to),
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

    given = {"URL": args.urls or None, "--cert": args.cert, "--key": args.key, "--ca": args.ca}
    missing = [opt for opt, val in given.items() if val is None]
    if not (args.old_key_env or args.old_key_file):
        missing.append("--old-key-env or --old-key-file")
    if missing:
        raise VerifyError(f"verify: missing {', '.join(missing)} (see 'workbench verify --help')")
    options = run_options(args)
    for path in args.paths:
        if not path.startswith("/"):
            raise VerifyError(f"verify: --path {path!r} must start with '/' (e.g. /v1/charges)")
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
    target = Target(
        args.urls[0],
        header=args.header,
        endpoints=tuple(args.urls[1:]),
        probe_paths=tuple(args.paths),
    )
    return run_verify(target, identities, options=options)


def verdict_json(result) -> dict:
    """The ``--json`` document of one result (no secret: evidence holds fingerprints only)."""
    from workbench.verify.report import verdict_document

    return verdict_document(result)


def report(result, *, as_json: bool) -> int:
    """Print one result and return the exit status (0 only on PASS)."""
    from workbench.cli.verdict_output import print_summary
    from workbench.verify.reading import VerdictReading

    doc = verdict_json(result)
    if as_json:
        print_json(doc)
    else:
        verdict = VerdictReading.from_document(doc)
        print_summary(verdict, title=", ".join(verdict.scope.get("entry_points") or [verdict.url]))
        print(f"verdict: {verdict.verdict}")
    return 0 if result.verdict.passed else 1


def handle(args: argparse.Namespace) -> int:
    if args.step is None and args.wave is None:
        return report(run_standalone(args), as_json=args.json)
    if args.urls:
        raise VerifyError("give either URL (standalone) or --step/--wave (workspace), not both")
    return handle_workspace(args)


def handle_workspace(args: argparse.Namespace) -> int:
    from workbench.cli._common import progress
    from workbench.cli._secrets import open_workspace_campaign
    from workbench.cli.verdict_output import print_step_verdict
    from workbench.migration.verification import verify_steps, wave_verdict

    with open_workspace_campaign(args) as campaign:
        keys = [args.step] if args.step else campaign.wave_steps(args.wave)
        with progress("verifying", len(keys), enabled=not args.json) as advance:
            verdicts = verify_steps(
                campaign,
                keys,
                options=run_options(args),
                allow_cross_environment=args.allow_cross_environment,
                progress=lambda _result: advance(1),
            )
    if args.json:
        if args.step:
            print_json({**verdicts[0].document, "state": verdicts[0].state})
        else:
            print_json(
                {
                    "wave": args.wave,
                    "verdict": wave_verdict(verdicts),
                    "steps": [{**v.document, "state": v.state} for v in verdicts],
                }
            )
    else:
        for v in verdicts:
            print_step_verdict(v.reading, v.step, v.state)
    return 0 if wave_verdict(verdicts) == Verdict.PASS else 1
