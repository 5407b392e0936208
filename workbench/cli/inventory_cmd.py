"""``workbench inventory check`` and ``workbench import``: thin over ``workbench.inventory``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from workbench.cli._common import add_json_arg, add_max_bytes_arg, eprint, print_json, to_jsonable


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    inv = sub.add_parser(
        "inventory",
        help="check an inventory file",
        description="Work with the integration inventory (YAML or JSON, format version 1).",
    )
    inv_sub = inv.add_subparsers(
        dest="inventory_command", metavar="SUBCOMMAND", parser_class=type(inv)
    )
    check = inv_sub.add_parser(
        "check",
        help="validate an inventory and list risky findings",
        description=(
            "Load FILE with every hostile-input and consistency check, then list findings "
            "(shared, stale, orphaned, cross-environment, third-party keys ...) as "
            "FILE:LINE:COL: severity: code: message."
        ),
        epilog="Exit status: 0 clean (info only), 1 warnings or worse, 2 invalid inventory.",
    )
    check.add_argument("file", metavar="FILE", help="inventory file (YAML or JSON)")
    add_max_bytes_arg(check)
    check.add_argument(
        "--today",
        type=_day,
        metavar="DATE",
        help="judge rotation ages as of this date (default: today)",
    )
    check.add_argument(
        "--stale-days",
        type=_positive,
        default=365,
        metavar="N",
        help="rotation older than N days is stale (default 365)",
    )
    check.add_argument(
        "--shared-threshold",
        type=_positive,
        default=3,
        metavar="N",
        help="a key used by N or more services is shared (default 3)",
    )
    add_json_arg(check)
    check.set_defaults(func=_check)
    inv.set_defaults(func=lambda args: _usage(inv))

    imp = sub.add_parser(
        "import",
        help="import a CSV sheet or a scanner report into an inventory",
        description=(
            "Read a CSV sheet (one row per integration) or a gitleaks / trufflehog / "
            "detect-secrets report and print or write the resulting inventory. Secret values "
            "in reports are only hashed (first 12 hex of SHA-256) and never written. Keys "
            "from scanners go to the placeholder api 'unassigned' (tagged needs-triage). "
            "With --into, the import is merged into that inventory (same fingerprint = same "
            "key; found_in unioned); comments in it are not kept."
        ),
        epilog="Exit status: 0 written, 2 malformed report or inventory.",
    )
    imp.add_argument(
        "kind", choices=("csv", "gitleaks", "trufflehog", "detect-secrets"), help="what REPORT is"
    )
    imp.add_argument("report", metavar="REPORT", help="the file to import")
    imp.add_argument("--into", metavar="INVENTORY", help="merge into this inventory")
    imp.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the inventory here atomically (default: print YAML)",
    )
    add_max_bytes_arg(imp)
    add_json_arg(imp)
    imp.set_defaults(func=_import)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    from workbench.errors import InventoryError
    from workbench.inventory import find_findings, has_failing_findings, load_inventory

    try:
        inv = load_inventory(args.file)
    except InventoryError as exc:
        if args.json:
            print_json({"valid": False, "problems": exc.problems})
        raise
    findings = find_findings(
        inv,
        today=args.today or date.today(),
        shared_threshold=args.shared_threshold,
        stale_days=args.stale_days,
    )
    from workbench.inventory.secretfiles import secret_file_findings

    # file: refs are relative to the inventory (as the verifier resolves them)
    findings += secret_file_findings(inv, Path(args.file).resolve().parent)
    by_severity = {"high": 0, "warning": 0, "info": 0}
    for f in findings:
        by_severity[f.severity.value] += 1
    counts = {
        "apis": len(inv.apis),
        "services": len(inv.services),
        "keys": len(inv.keys),
        "integrations": len(inv.integrations),
        "findings": by_severity,
    }
    if args.json:
        print_json(
            {
                "valid": True,
                "file": args.file,
                "findings": [_finding(f) for f in findings],
                "counts": counts,
            }
        )
    else:
        for f in findings:
            print(f if f.location else f"{args.file}:0:0: {f}")
        eprint(
            f"{args.file}: valid; {counts['apis']} apis, {counts['services']} services, "
            f"{counts['keys']} keys, {counts['integrations']} integrations; "
            f"{by_severity['high']} high, {by_severity['warning']} warning, "
            f"{by_severity['info']} info findings"
        )
    return 1 if has_failing_findings(findings) else 0


def _finding(f) -> dict:
    out = to_jsonable(f)
    out["location"] = to_jsonable(f.location) if f.location else None
    return out


def _import(args: argparse.Namespace) -> int:
    from workbench.errors import ImportReportError
    from workbench.inventory import (
        check_output_target,
        dump_inventory,
        inventory_to_dict,
        load_inventory,
        loads_inventory,
        merge_inventories,
        validate_inventory,
        write_text_atomic,
    )
    from workbench.inventory.importers import import_report

    out = args.output if args.output not in (None, "-") else None
    if out:
        check_output_target(out)  # a bad -o is said before the work, not after
    base = load_inventory(args.into) if args.into else None
    incoming = import_report(args.kind, args.report, base=base)
    merged = merge_inventories(base, incoming) if base is not None else incoming
    problems = validate_inventory(merged)
    if problems:
        raise ImportReportError(problems)
    text = dump_inventory(merged)
    loads_inventory(text, out or "<output>")  # never write what would not load back
    if out:
        write_text_atomic(out, text)
    before = base.keys_by_id if base is not None else {}
    summary = {
        "kind": args.kind,
        "report": args.report,
        "into": args.into,
        "output": out,
        "keys": len(merged.keys),
        "keys_added": sum(1 for k in merged.keys if k.id not in before),
        "found_in_added": sum(len(k.found_in) for k in merged.keys)
        - sum(len(k.found_in) for k in before.values()),
        "integrations": len(merged.integrations),
    }
    if args.json:
        if out is None:
            summary["inventory"] = inventory_to_dict(merged)
        print_json(summary)
    else:
        if out is None:
            sys.stdout.write(text)
        eprint(
            f"imported {args.report}: {summary['keys_added']} new keys, "
            f"{summary['found_in_added']} new places; {summary['keys']} keys in total"
            + (f"; wrote {out}" if out else "")
        )
    return 0
