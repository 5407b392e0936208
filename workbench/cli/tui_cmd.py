"""``workbench tui``: the Textual front end (imported only when the command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import DEFAULT_WORKSPACE, add_max_bytes_arg

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tui",
        help="interactive terminal UI: waves, step detail, evidence, audit log, findings",
        description=(
            "Open the terminal UI. With --workspace DIR (or ./.workbench when it exists and no "
            "INVENTORY is given): the full app, with step actions (issue, dual, usage, cut over, "
            "verify). With only INVENTORY: a read-only planning view. The CA passphrase comes "
            "from WORKBENCH_CA_PASSPHRASE, or is asked once in a password field. Keys: arrows "
            "select a step, ctrl+p lists every action, ctrl+q quits."
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
    from workbench.inventory import load_inventory
    from workbench.plan import make_plan
    from workbench.policy import load_policy
    from workbench.tui.source import PlanningSource

    inventory = load_inventory(args.inventory)
    plan = make_plan(
        inventory,
        policy=load_policy(args.policy),
        strategy=args.strategy,
        wave_size=args.wave_size,
    )
    return PlanningSource(inventory, plan)


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
    snapshot = source.load()  # fail here, as a one-line CLI error, before the screen opens
    from workbench.tui.app import WorkbenchApp

    WorkbenchApp(source, snapshot=snapshot).run()
    return 0
