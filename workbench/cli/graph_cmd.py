"""``workbench graph``: export the dependency graph, or summarise its analyses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._common import add_json_arg, add_max_bytes_arg, print_json, print_table
from workbench.errors import InputError

FORMATS = ("json", "graphml", "dot", "mermaid")
PICTURES = ("svg", "png")


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
            "mermaid, or draws a picture (svg, png: services, keys and APIs in columns, keys "
            "coloured by wave, labels that never overlap, a legend). --report prints the "
            "analyses instead: shared keys, largest blast radii, service cycles, keys spanning "
            "environments, orphan keys and busy services."
        ),
        epilog=(
            "--json prints the analyses as JSON (implies --report). Exit status: 0 ok, "
            "2 bad input or usage. Cycles are reported, not fatal."
        ),
    )
    p.add_argument("file", metavar="FILE", help="inventory YAML file")
    add_max_bytes_arg(p)
    p.add_argument(
        "--format",
        choices=FORMATS + PICTURES,
        default="json",
        help="export format, or a picture: svg, png (default: json)",
    )
    p.add_argument(
        "-o", "--output", metavar="OUT", type=Path,
        help="write the export to OUT (required for png)",
    )  # fmt: skip
    p.add_argument(
        "--layout",
        choices=("kind", "wave"),
        default="kind",
        help="pictures: 'kind' orders keys to keep edges short, 'wave' groups them by wave",
    )
    p.add_argument(
        "--strategy", default="risk-first",
        help="pictures: the plan strategy whose waves colour the keys (default: risk-first)",
    )  # fmt: skip
    p.add_argument(
        "--wave-size", type=_positive, default=5, metavar="N",
        help="pictures: keys per wave (default 5)",
    )  # fmt: skip
    p.add_argument(
        "--max-keys", type=_positive, default=150, metavar="N",
        help="pictures: draw at most N keys, the first in plan order (default 150)",
    )  # fmt: skip
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
    if args.format in PICTURES and not (args.report or args.json):
        return _picture(args, inv, graph)
    if not (args.report or args.json):
        text = export_graph(graph, args.format)
        if args.output is None:
            sys.stdout.write(text)
        else:
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


def _picture(args: argparse.Namespace, inv, graph) -> int:  # noqa: ANN001
    import io

    from workbench.graph.picture import draw_graph, save_picture
    from workbench.plan import make_plan

    if args.output is None and args.format == "png":
        raise InputError("--format png writes binary data: give -o FILE.png")
    if args.output is not None:
        from workbench.inventory import check_output_target

        check_output_target(args.output)  # before the drawing, not after
    plan = make_plan(inv, strategy=args.strategy, wave_size=args.wave_size, graph=graph)
    fig = draw_graph(graph, plan=plan, layout=args.layout, max_keys=args.max_keys)
    buffer = io.BytesIO()
    save_picture(fig, buffer, args.format)
    if args.output is None:
        sys.stdout.write(buffer.getvalue().decode("utf-8"))
        return 0
    from workbench.workspace.atomic import atomic_write

    atomic_write(args.output, buffer.getvalue(), mode=0o644)
    return 0
