"""``workbench graph``: export the dependency graph, or summarise its analyses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._common import add_json_arg, add_max_bytes_arg, print_json, print_table
from workbench.errors import InputError

FORMATS = ("json", "graphml", "dot", "mermaid")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "graph",
        help="export the key/service/API dependency graph or summarise it",
        description=(
            "Build the dependency graph of an inventory (consumer -> key -> API -> serving "
            "service). By default print it as node-link JSON; --format picks graphml, dot or "
            "mermaid. --report prints the analyses instead: shared keys, largest blast radii, "
            "service cycles, keys spanning environments, orphan keys and busy services."
        ),
        epilog=(
            "--json prints the analyses as JSON (implies --report). Exit status: 0 ok, "
            "2 bad input or usage. Cycles are reported, not fatal."
        ),
    )
    p.add_argument("file", metavar="FILE", help="inventory YAML file")
    add_max_bytes_arg(p)
    p.add_argument(
        "--format", choices=FORMATS, default="json", help="export format (default: json)"
    )
    p.add_argument("-o", "--output", metavar="OUT", type=Path, help="write the export to OUT")
    p.add_argument("--report", action="store_true", help="print the analyses as tables")
    add_json_arg(p)
    p.add_argument(
        "--top", type=_positive, default=10, metavar="N", help="blast radii to list (default 10)"
    )
    p.add_argument(
        "--busy", type=_positive, default=3, metavar="N",
        help="a service holding N keys or more is busy (default 3)",
    )  # fmt: skip
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from workbench.graph import analyse, build_graph, export_graph
    from workbench.inventory import load_inventory, write_text_atomic

    inv = load_inventory(args.file)
    graph = build_graph(inv)
    if not (args.report or args.json):
        text = export_graph(graph, args.format)
        if args.output is None:
            sys.stdout.write(text)
        else:
            if not args.output.parent.is_dir():
                raise InputError(f"{args.output}: directory does not exist; create it first")
            write_text_atomic(args.output, text)
        return 0

    report = analyse(graph, top=args.top, busy_threshold=args.busy)
    if args.json:
        print_json(report.to_dict())
        return 0
    c = report.counts
    print(
        f"{args.file}: {c['service']} services, {c['key']} keys, {c['api']} APIs, "
        f"{c['edges']} edges"
    )
    print_table(
        ["key", "consumers", "services"],
        [(s.key, len(s.consumers), ", ".join(s.consumers)) for s in report.shared_keys],
        title=f"Shared keys ({len(report.shared_keys)})",
    )
    print_table(
        ["key", "affected", "exposures", "data classes", "APIs down"],
        [
            (b.key, b.size, ", ".join(b.exposures), ", ".join(b.data_classes), ", ".join(b.apis))
            for b in report.blast_radii
        ],
        title=f"Largest blast radii (top {args.top})",
    )
    print_table(
        ["#", "services in the cycle"],
        [(i, " <-> ".join(g)) for i, g in enumerate(report.cycles, 1)],
        title=f"Service dependency cycles ({len(report.cycles)})",
    )
    print_table(
        ["key", "API environment", "consumer environments"],
        [
            (m.key, m.api_environment, ", ".join(m.consumer_environments))
            for m in report.mixed_environment_keys
        ],
        title=f"Keys spanning environments ({len(report.mixed_environment_keys)})",
    )
    print_table(
        ["key"],
        [(k,) for k in report.orphan_keys],
        title=f"Orphan keys, revoke only ({len(report.orphan_keys)})",
    )
    print_table(
        ["service", "keys", "which"],
        [(b.service, len(b.keys), ", ".join(b.keys)) for b in report.busy_services],
        title=f"Services holding {report.busy_threshold}+ keys ({len(report.busy_services)})",
    )
    return 0
