"""``workbench tui``: the Textual front end (imported only when the command runs)."""

from __future__ import annotations

import argparse
import contextlib
import signal
from pathlib import Path

from workbench.cli._common import DEFAULT_WORKSPACE, add_max_bytes_arg, eprint

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tui",
        help="interactive terminal UI: waves, step detail, evidence, audit log, findings",
        description=(
            "Open the terminal UI. With --workspace DIR (or ./.workbench when it exists and no "
            "INVENTORY is given): the full app, with every CLI action (issue, render, gateway "
            "set-mode, usage, cutover, verify, evidence, export playbook, revoke, renew, crl, "
            "audit verify; per step or per wave). With only INVENTORY: a read-only planning "
            "view, loaded after the first frame. The CA passphrase comes from "
            "WORKBENCH_CA_PASSPHRASE, or is asked once in a password field. Keys: arrows select "
            "a step, 1-4 switch views, i d u c v act on the step, ctrl+p lists every action, "
            "ctrl+r reloads, ctrl+q (or q, or ctrl+c) quits."
        ),
    )
    p.add_argument("inventory", nargs="?", metavar="INVENTORY", help="inventory file to plan")
    add_max_bytes_arg(p)
    p.add_argument(
        "--workspace",
        type=Path,
        default=None,
        metavar="DIR",
        help="workspace directory (default: ./.workbench when it exists and no INVENTORY)",
    )
    p.add_argument("--policy", metavar="FILE", help="scoring policy YAML (planning view)")
    p.add_argument(
        "--strategy",
        choices=("risk-first", "pilot-first"),
        default="risk-first",
        help="wave strategy of the planning view (default: risk-first)",
    )
    p.add_argument(
        "--wave-size",
        type=int,
        default=5,
        metavar="N",
        help="maximum steps per wave in the planning view (default: 5)",
    )
    p.set_defaults(func=handle)


def make_source(args: argparse.Namespace):
    """The app's source for these arguments (raises WorkbenchError on bad input)."""
    from workbench.errors import InputError

    workspace = args.workspace
    if workspace is None and args.inventory is None:
        if not DEFAULT_WORKSPACE.is_dir():
            raise InputError("no ./.workbench here: give an INVENTORY to plan, or --workspace DIR")
        workspace = DEFAULT_WORKSPACE
    if workspace is not None:
        from workbench.tui.source import WorkspaceSource

        if args.inventory is not None:
            _check_same_inventory(workspace, Path(args.inventory))
        return WorkspaceSource(Path(workspace))
    from workbench.tui.source import PlanningSource

    path = Path(args.inventory)
    if not path.is_file():
        raise InputError(f"{path}: no such inventory file; give the path of a YAML or JSON file")
    if args.wave_size < 1:
        raise InputError(f"--wave-size must be 1 or more, not {args.wave_size}")
    # Read and planned in the app's loading worker: the first frame does not wait for it.
    return PlanningSource(
        path=path, policy=args.policy, strategy=args.strategy, wave_size=args.wave_size
    )


def _check_same_inventory(workspace: Path, inventory: Path) -> None:
    from workbench.errors import InputError
    from workbench.workspace import Workspace

    with Workspace.open(workspace) as ws:
        recorded = Path(ws.info().inventory_path)
    if recorded != inventory.resolve():
        raise InputError(
            f"{workspace} was initialised for {recorded}, not {inventory}: "
            "drop INVENTORY or use another --workspace"
        )


def handle(args: argparse.Namespace) -> int:
    source = make_source(args)
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(source)
    app.run()
    if app.load_error is not None:
        raise app.load_error  # the CLI prints it as one line and exits 2
    # The terminal is the shell's again; these lines are the last the user sees of the app.
    # (After SIGHUP there is no terminal to write to: then nothing is said.)
    with contextlib.suppress(OSError):
        if app.stopped_by == signal.SIGINT:
            eprint("interrupted")
        elif app.stopped_by is not None:
            eprint(f"workbench tui: stopped by {signal.Signals(app.stopped_by).name}")
        if app.busy:  # a worker thread still runs: Python waits for it before exiting
            eprint(f"waiting for {app.busy} to finish (its result is recorded)...")
    return app.return_code or 0
