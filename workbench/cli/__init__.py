"""Command-line front end: parse arguments, call the core, format output, map errors to exits.

Exit status: 0 ok, 1 findings or a failed check, 2 bad input or usage.
Each command group lives in its own module with a ``register(subparsers)`` function; the
handler it sets as ``func`` returns the exit status. Heavy imports stay inside handlers so
``workbench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Sequence

from workbench.errors import WorkbenchError

__all__ = ["build_parser", "main"]

# Order here is the order in --help.
COMMAND_MODULES = (
    "inventory_cmd",  # inventory check, import
    "graph_cmd",  # graph
    "plan_cmd",  # plan
    "workspace_cmd",  # init, status, audit
    "pki_cmd",  # issue, revoke, crl, renew
    "sample_env_cmd",  # sample-env up/down/status
    "gateway_cmd",  # gateway set-mode, usage
    "verify_cmd",  # verify
    "cutover_cmd",  # cutover, evidence
    "drill_cmd",  # drill revoke/canary/kill-key/show/ticket
    "render_cmd",  # render
    "token_cmd",  # token assertion/dpop/lint
    "export_cmd",  # export playbook
    "report_cmd",  # report
    "tui_cmd",  # tui
)


_JSON_ERRORS = False
"""True while main() runs a command line holding --json: usage errors are JSON too."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2) instead of a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if _JSON_ERRORS:
            doc = {"error": f"{self.prog}: {message}", "location": "command line"}
            self.exit(2, json.dumps(doc) + "\n")
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Version(argparse.Action):
    """``--version``: reads the package metadata only when asked (importlib.metadata costs
    tens of milliseconds, which every command, the TUI's first frame included, would pay)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        from workbench import __version__

        parser._print_message(f"workbench {__version__}\n", sys.stdout)
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description=(
            "Take service-to-service integrations off static API keys and onto mTLS client "
            "certificates, one step at a time, with proof at every step."
        ),
        epilog="Exit status: 0 ok, 1 findings or a failed check, 2 bad input or usage.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"workbench.cli.{name}")
        module.register(sub)
    return parser


def _size_limit(limit: int | None):
    """``--max-bytes`` for everything the command reads (yaml is imported only when given)."""
    if limit is None:
        return contextlib.nullcontext()
    from workbench.inventory.yamlsafe import size_limit

    return size_limit(limit)


def _database_error(exc: Exception) -> WorkbenchError | None:
    """A damaged or locked workspace database met in the middle of a command, as the
    one-line WorkspaceError it is (None for anything else). sqlite3 is looked up, not
    imported: a command that never loaded it cannot have raised its errors."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
        return None
    from workbench.workspace.schema import database_error

    return database_error(exc)


def main(argv: Sequence[str] | None = None) -> int:
    global _JSON_ERRORS
    from workbench.cli._ids import check_ids, report_error
    from workbench.lab.plugin import plug_in

    plug_in()  # the lab is a gateway kind the CLI brings; the core never imports it
    parser = build_parser()
    _JSON_ERRORS = "--json" in (sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    finally:
        _JSON_ERRORS = False
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        check_ids(args)
        with _size_limit(getattr(args, "max_bytes", None)):
            status = int(func(args) or 0)
        sys.stdout.flush()  # a reader gone (`| head`) is met here, not at exit ("ignored")
        return status
    except WorkbenchError as exc:
        report_error(exc, as_json=bool(getattr(args, "json", False)))
        return exc.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        known = _database_error(exc)
        if known is None:
            raise
        report_error(known, as_json=bool(getattr(args, "json", False)))
        return known.exit_status
