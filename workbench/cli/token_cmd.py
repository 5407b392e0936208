"""``workbench token``: make client assertions and DPoP proofs, lint tokens.

Tokens are bearer secrets: ``lint`` reads them from stdin (``-``) or an environment variable
as well as argv (argv is visible in ``ps``) and only ever prints a fingerprint of the token.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

from workbench.cli._common import add_json_arg, add_workspace_arg, eprint, print_json, print_table
from workbench.errors import InputError, Problem, TokenError

ALGS = ("ES256", "PS256", "EdDSA")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    token = sub.add_parser(
        "token",
        help="client assertions, DPoP proofs and token lint",
        description=(
            "Sender-constrained tokens: RFC 7523 client assertions (private_key_jwt), "
            "RFC 9449 DPoP proofs, and a linter for JWT access tokens (RFC 8705 binding)."
        ),
    )
    token.set_defaults(func=lambda _args: _usage(token))
    cmds = token.add_subparsers(dest="token_command", metavar="SUBCOMMAND")

    p = cmds.add_parser(
        "assertion",
        help="print a signed private_key_jwt client assertion",
        description=(
            "Print a short-lived RFC 7523 client assertion (iss=sub=SERVICE, aud=URL, unique "
            "jti) signed with the service's private key. The algorithm follows the key: "
            "EC P-256 -> ES256, RSA >= 2048 -> PS256, Ed25519 -> EdDSA."
        ),
    )
    p.add_argument("--service", required=True, metavar="S", help="client_id (the service id)")
    p.add_argument("--aud", required=True, metavar="URL", help="authorization server issuer URL")
    p.add_argument(
        "--key",
        type=Path,
        metavar="FILE",
        help="PEM private key (default: the service's newest active key in the workspace)",
    )
    add_workspace_arg(p)
    p.add_argument("--alg", choices=ALGS, help="must match the key (default: from the key)")
    p.add_argument(
        "--lifetime", type=int, default=60, metavar="S", help="seconds, <= 300 (default 60)"
    )
    p.add_argument("--kid", help="key id to put in the header")
    add_json_arg(p)
    p.set_defaults(func=_assertion)

    p = cmds.add_parser(
        "dpop",
        help="print a DPoP proof for one request",
        description=(
            "Print an RFC 9449 DPoP proof (typ dpop+jwt, public jwk, jti, htm, htu without "
            "query/fragment, iat, and ath when an access token is given)."
        ),
    )
    p.add_argument("--key", required=True, type=Path, metavar="FILE", help="PEM private key")
    p.add_argument("--htm", required=True, metavar="METHOD", help="HTTP method, e.g. GET")
    p.add_argument("--htu", required=True, metavar="URL", help="request URL")
    p.add_argument(
        "--access-token-env",
        metavar="VAR",
        help="environment variable holding the access token (adds the ath claim)",
    )
    p.add_argument("--nonce", help="server-provided DPoP-Nonce")
    add_json_arg(p)
    p.set_defaults(func=_dpop)

    p = cmds.add_parser(
        "lint",
        help="inspect a JWT for weak algorithms, missing binding and lifetime problems",
        description=(
            "Inspect a JWT without trusting it: refused algorithms (none, HS*, anything but "
            "PS256/ES256/EdDSA), missing or malformed cnf binding, certificate mismatch, "
            "expiry, lifetime, missing claims. The signature is checked only with --key. "
            "Exit 0 ok, 1 findings at warning or above, 2 not a JWT."
        ),
    )
    p.add_argument(
        "token",
        nargs="?",
        metavar="TOKEN",
        help="the JWT, or - to read it from stdin (argv is visible to other users in ps)",
    )
    p.add_argument("--token-env", metavar="VAR", help="read the JWT from this environment variable")
    p.add_argument(
        "--cert", type=Path, metavar="FILE", help="client certificate it must be bound to"
    )
    p.add_argument("--key", type=Path, metavar="FILE", help="issuer public key/cert to verify with")
    p.add_argument(
        "--max-lifetime",
        type=int,
        default=3600,
        metavar="S",
        help="flag tokens living longer than this (default 3600)",
    )
    add_json_arg(p)
    p.set_defaults(func=_lint)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(str(path), 0, 0, f"cannot read: {exc.strerror}")) from exc


def _load_private_key(path: Path) -> Any:
    from workbench.tokens._jose import load_private_key

    data = _read_file(path)
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = 0
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        eprint(f"{path}: warning: private key is readable by others; run chmod 600 {path}")
    try:
        return load_private_key(data)
    except TokenError as exc:
        raise InputError(Problem(str(path), 0, 0, str(exc))) from exc


def _load_pem(path: Path, what: str) -> Any:
    from workbench.tokens._jose import load_public_key
    from workbench.tokens.thumbprints import x5t_s256

    data = _read_file(path)
    try:
        if what == "cert":
            x5t_s256(data)  # parses it, with a one-line error when it is not a certificate
            return data
        return load_public_key(data)
    except TokenError as exc:
        raise InputError(Problem(str(path), 0, 0, str(exc))) from exc


def _env(var: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise InputError(Problem(f"${var}", 0, 0, "environment variable is not set or empty"))
    return value.strip()


def _workspace_key(workspace: Path, service: str) -> Path:
    """The private key of the service's newest active client certificate in the workspace."""
    from workbench.errors import InputError
    from workbench.workspace import Workspace

    with Workspace.open(workspace) as ws:
        certs = [c for c in ws.active_certificates(kind="client", service=service) if c.key_path]
        if not certs:
            raise InputError(
                f"{service} has no active certificate in {workspace}: pass --key FILE or run "
                "`workbench issue` first"
            )
        newest = max(certs, key=lambda c: c.not_before)
        return ws.directory / newest.key_path


def _assertion(args: argparse.Namespace) -> int:
    from workbench.tokens import assertion_form, client_assertion

    key = _load_private_key(args.key or _workspace_key(args.workspace, args.service))
    jwt = client_assertion(
        client_id=args.service,
        audience=args.aud,
        private_key=key,
        alg=args.alg,
        lifetime=args.lifetime,
        now=time.time(),
        kid=args.kid,
    )
    if args.json:
        print_json(assertion_form(jwt))
    else:
        print(jwt)
    return 0


def _dpop(args: argparse.Namespace) -> int:
    from workbench.tokens import dpop_proof

    key = _load_private_key(args.key)
    access_token = _env(args.access_token_env) if args.access_token_env else None
    proof = dpop_proof(
        private_key=key,
        htm=args.htm,
        htu=args.htu,
        access_token=access_token,
        nonce=args.nonce,
        now=time.time(),
    )
    if args.json:
        print_json({"dpop": proof})
    else:
        print(proof)
    return 0


def _read_token(args: argparse.Namespace) -> tuple[str, str]:
    """(token, where) with ``where`` naming the source for error messages."""
    if args.token_env and args.token:
        raise InputError("give the token either as TOKEN/- or with --token-env, not both")
    if args.token_env:
        return _env(args.token_env), f"${args.token_env}"
    if args.token is None:
        raise InputError("no token: give TOKEN, - (stdin) or --token-env VAR")
    if args.token == "-":  # noqa: S105  (stdin marker, not a secret)
        return sys.stdin.read().strip(), "-"
    return args.token.strip(), "<argv>"


def _lint(args: argparse.Namespace) -> int:
    from workbench.tokens import lint_token

    token, where = _read_token(args)
    cert = _load_pem(args.cert, "cert") if args.cert else None
    key = _load_pem(args.key, "key") if args.key else None
    try:
        result = lint_token(
            token, cert=cert, key=key, now=time.time(), max_lifetime=args.max_lifetime
        )
    except TokenError as exc:
        # The message never quotes the token; `where` says which input it came from.
        raise InputError(Problem(where, 1, 1, str(exc))) from exc
    if args.json:
        print_json(
            {
                "token_fingerprint": result.fingerprint,
                "ok": result.ok,
                "bound_to": result.bound_to,
                "signature_checked": result.signature_checked,
                "jti": result.jti,
                "header": result.header,
                "claims": result.claims,
                "findings": [
                    {"code": f.code, "severity": f.severity.value, "message": f.message}
                    for f in result.findings
                ],
            }
        )
    else:
        alg = str(result.header.get("alg"))[:16]
        binding = result.bound_to or "not sender-constrained"
        checked = "signature verified" if result.signature_checked else "signature not checked"
        print(f"token {result.fingerprint}: alg {alg}, {binding}, {checked}")
        if result.findings:
            print_table(
                ("severity", "code", "message"),
                [(f.severity.value, f.code, f.message) for f in result.findings],
            )
        else:
            print("no findings")
    return 0 if result.ok else 1
