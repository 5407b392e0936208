"""``workbench render``: client and gateway configs for a step, from the workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli._common import add_json_arg, add_workspace_arg, eprint, print_json, print_table

__all__ = ["register"]


def _formats_help() -> str:
    from workbench.render.formats import FORMATS

    width = max(len(n) for n in FORMATS)
    return "\n".join(f"  {f.name:<{width}}  {f.kind:<7}  {f.description}" for f in FORMATS.values())


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "render",
        help="render client and gateway configs for a step (httpx, curl, nginx, k8s, ...)",
        description=(
            "Render, for every consumer of the step's key, configs that present its client "
            "certificate (paths only, never key values), and for the step's API the gateway "
            "configs of the overlap (dual) and cut-over (mtls) phases. Files go to "
            "<workspace>/rendered/<step>/ (dirs 0700); only k8s-secret.yaml holds a private "
            "key (0600)."
        ),
        epilog="formats (--formats NAME,NAME; default all):\n" + _formats_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--step", metavar="KEY", help="the step (key id) to render")
    p.add_argument(
        "--formats",
        metavar="LIST",
        help="comma-separated formats (default: all); 'list' prints them and exits",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="DIR",
        help="output directory (default: <workspace>/rendered/<step>)",
    )
    p.add_argument(
        "--upstream",
        metavar="URL",
        help="backend URL the gateway configs proxy to (default: placeholder)",
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="address gateway configs listen on (default: the API URL's)",
    )
    p.add_argument(
        "--key-map-dir",
        metavar="DIR",
        help="where the nginx dual config includes key maps from "
        "(default: /etc/nginx/workbench/keys)",
    )
    add_workspace_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_render)


def _render(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from workbench.render.formats import FORMATS, parse_formats

    if args.formats == "list":
        if args.json:
            print_json(
                [
                    {
                        "name": f.name,
                        "kind": f.kind,
                        "description": f.description,
                        "files": [o.filename for o in f.outputs],
                    }
                    for f in FORMATS.values()
                ]
            )
        else:
            print_table(
                ["format", "kind", "files", "description"],
                [
                    (f.name, f.kind, ", ".join(o.filename for o in f.outputs), f.description)
                    for f in FORMATS.values()
                ],
            )
        return 0
    if not args.step:
        eprint("workbench render: error: --step KEY is required (or --formats list)")
        return 2
    formats = parse_formats(args.formats)

    from workbench.cli._secrets import passphrase_source
    from workbench.migration import open_campaign
    from workbench.render import render_step

    with open_campaign(args.workspace, passphrase=passphrase_source()) as campaign:
        result = render_step(
            campaign,
            args.step,
            formats=formats,
            out_dir=args.out,
            now=datetime.now(UTC),
            upstream=args.upstream,
            key_map_dir=args.key_map_dir,
            listen=args.listen,
        )
    for w in result.warnings:
        eprint(f"warning: {w}")
    if args.json:
        print_json(
            {
                "step": result.step,
                "directory": str(result.directory),
                "files": [
                    {
                        "path": str(f.path),
                        "format": f.format,
                        "kind": f.kind,
                        "subject": f.subject,
                        "mode": oct(f.mode),
                        "sha256": f.sha256,
                        "secret": f.secret,
                    }
                    for f in result.files
                ],
                "warnings": list(result.warnings),
            }
        )
    else:
        print_table(
            ["file", "format", "for", "mode"],
            [
                (
                    str(f.path.relative_to(result.directory)),
                    f.format,
                    f.subject,
                    oct(f.mode) + (" SECRET" if f.secret else ""),
                )
                for f in result.files
            ],
            title=f"step {result.step}: {len(result.files)} files in {result.directory}",
        )
    return 0
