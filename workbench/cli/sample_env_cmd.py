"""``workbench sample-env up|down|status``: run the sample company (backend + gateway)."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import add_json_arg, add_workspace_arg, print_json, print_table

DEFAULT_INVENTORY = Path("sample_env/inventory.yaml")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "sample-env",
        help="run the sample environment (backend + mTLS gateway) for real",
        description=(
            "Start, stop or inspect the sample environment: a backend for every API of the "
            "inventory and a gateway (Python reference or nginx) in front of it on 127.0.0.1."
        ),
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser(
        "up",
        help="start backend and gateway (idempotent)",
        description=(
            "Give every key a value the gateway and the workbench share (a secret_ref that "
            "resolves is used as it is; a missing file: is generated where it points; an unset "
            "env: gets a generated value and up says what to export), start the backend and a "
            "gateway per port, and wait until they answer. The lab's state belongs to the "
            "workspace. Running 'up' again is a no-op and keeps the routes' current modes."
        ),
    )
    _common(up)
    up.add_argument(
        "--gateway",
        choices=("python", "nginx"),
        default="python",
        help="gateway kind (default: python)",
    )
    up.add_argument(
        "--port", type=int, default=None, help="gateway port (default: from the inventory URLs)"
    )
    up.add_argument("--server-cert", type=Path, help="gateway server certificate (PEM chain)")
    up.add_argument("--server-key", type=Path, help="gateway server private key (PEM)")
    up.add_argument("--client-ca", type=Path, help="CA bundle trusted for client certificates")
    up.add_argument(
        "--crl", type=Path, help="PEM file with one CRL per CA (enables revocation checks)"
    )
    up.set_defaults(func=_up)

    down = actions.add_parser(
        "down",
        help="stop every process the sample environment started",
        description="Stop the gateway and the backend by PID and remove their PID files.",
    )
    _common(down)
    down.set_defaults(func=_down)

    status = actions.add_parser(
        "status",
        help="show what runs (exit 1 when not running)",
        description="Show PIDs, ports and route modes. Exit 0 when running, 1 when not.",
    )
    _common(status)
    status.set_defaults(func=_status)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inventory",
        type=Path,
        default=None,
        metavar="FILE",
        help=(
            "inventory file (default: the workspace's inventory if there is a workspace, "
            f"else {DEFAULT_INVENTORY})"
        ),
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            "state directory: keys, PID files, logs (default: the workspace's own, under "
            "'state/' next to the inventory; without a workspace 'state' itself)"
        ),
    )
    add_workspace_arg(p)
    add_json_arg(p)


def _inventory_path(args: argparse.Namespace) -> Path:
    if args.inventory is not None:
        return args.inventory
    if (args.workspace / "state.db").is_file():
        from workbench.workspace import Workspace

        with Workspace.open(args.workspace) as ws:
            return Path(ws.info().inventory_path)
    return DEFAULT_INVENTORY


def _standalone(args: argparse.Namespace) -> bool:
    """No workspace to belong to: an explicit inventory or state dir, or no workspace here."""
    return (
        args.inventory is not None
        or args.state_dir is not None
        or not (args.workspace / "state.db").is_file()
    )


def _env(args: argparse.Namespace, **kw):
    """The lab of the workspace (its own state), or a standalone one next to the inventory."""
    from workbench.inventory.loader import load_inventory
    from workbench.lab import SampleEnv

    if not _standalone(args):
        from workbench.lab.workspace import lab_env
        from workbench.migration import open_campaign

        with open_campaign(args.workspace, passphrase=lambda: None) as campaign:
            return lab_env(campaign, **kw)
    inv = load_inventory(_inventory_path(args))
    return SampleEnv(inv, args.state_dir, **kw)


def _up(args: argparse.Namespace) -> int:
    from workbench.errors import InputError

    missing = [
        f"--{n.replace('_', '-')}"
        for n in ("server_cert", "server_key", "client_ca")
        if getattr(args, n) is None
    ]
    if len(missing) == 3 and args.inventory is None and args.state_dir is None:
        # The usual way: certificates, CA and CRLs from the workspace's own CA.
        from workbench.cli._secrets import passphrase_source
        from workbench.lab.workspace import lab_up
        from workbench.migration import open_campaign

        with open_campaign(args.workspace, passphrase=passphrase_source()) as campaign:
            st = lab_up(campaign, gateway=args.gateway, port=args.port)
        _show(st, args.json)
        return 0
    if missing:
        raise InputError(
            f"sample-env up needs {', '.join(missing)} (PEM files from your CA), or a "
            "workspace (`workbench init`) to take them from"
        )
    env = _env(args, gateway=args.gateway, port=args.port)
    st = env.up(args.server_cert, args.server_key, args.client_ca, crl=args.crl)
    _show(st, args.json)
    return 0


def _down(args: argparse.Namespace) -> int:
    env = _env(args)
    stopped = env.down()
    if args.json:
        print_json({"stopped": stopped})
    else:
        print(f"stopped {len(stopped)} process(es): {' '.join(map(str, stopped)) or '-'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    st = _env(args).status()
    _show(st, args.json)
    return 0 if st.running else 1


def _show(st, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        data = {
            "running": st.running,
            "gateway": st.gateway,
            "port": st.port,
            "gateway_pid": st.gateway_pid,
            "backend_pid": st.backend_pid,
            "backend_port": st.backend_port,
            "state_dir": st.state_dir,
            "access_log": st.access_log,
            "modes": st.modes,
            "auth_server_pid": st.auth_server_pid,
            "token_url": st.token_url,
            "gateways": [{"port": p, "pid": pid} for p, pid in st.gateways],
            "exports": [{"key": k, "variable": v, "file": f} for k, v, f in st.exports],
        }
        print_json(data)
        return
    state = "running" if st.running else "not running"
    print(
        f"sample env {state}: gateway={st.gateway or '-'} port={st.port or '-'} "
        f"gateway_pid={st.gateway_pid or '-'} backend_pid={st.backend_pid or '-'}"
    )
    if len(st.gateways) > 1:
        print("gateways: " + ", ".join(f"port {p} pid {pid or '-'}" for p, pid in st.gateways))
    if st.token_url:
        print(f"token server: {st.token_url} (pid {st.auth_server_pid})")
    for key, var, path in st.exports:
        # The value is never printed: the user reads it from the 0600 file into the variable.
        print(
            f'key {key}: {var} is not set; the lab generated a value: export {var}="$(cat {path})"'
        )
    if st.modes:
        print_table(["api", "mode"], sorted(st.modes.items()))
