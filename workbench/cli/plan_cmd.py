"""``workbench plan``: rank every static key by risk and group the steps into waves."""

from __future__ import annotations

import argparse
from datetime import date

from workbench.cli._common import add_json_arg, add_max_bytes_arg, print_json, print_table

STRATEGIES = ("risk-first", "pilot-first")


def _wave_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 1 and 10000")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the top-level parser."""
    p = sub.add_parser(
        "plan",
        help="rank keys by risk and group the migration into waves",
        description=(
            "Score every static key (data sensitivity, consumer exposure, blast radius, age, "
            "environment, third-party consumers, weighted by a policy), rank them, and group "
            "the steps into waves. Each score is shown as the factors that make it up."
        ),
        epilog="Exit status: 0 ok, 2 bad input or usage.",
    )
    p.add_argument("file", metavar="FILE", help="inventory YAML file")
    add_max_bytes_arg(p)
    p.add_argument("--policy", metavar="P", help="scoring policy YAML (default: the shipped one)")
    p.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="risk-first",
        help="risk-first (default), or pilot-first: a small low-risk rehearsal wave first",
    )
    p.add_argument(
        "--wave-size", type=_wave_size, default=5, metavar="N", help="steps per wave (default 5)"
    )
    p.add_argument(
        "--today", type=_date, metavar="DATE", help="measure key ages as of DATE (YYYY-MM-DD)"
    )
    add_json_arg(p)
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from workbench.inventory import load_inventory
    from workbench.plan import make_plan
    from workbench.policy import load_policy

    policy = load_policy(args.policy)
    inv = load_inventory(args.file, known_data_classes=policy.known_data_classes)
    plan = make_plan(
        inv, policy=policy, strategy=args.strategy, wave_size=args.wave_size, today=args.today
    )
    blockers = _verification_blockers(inv)
    if args.json:
        doc = plan.to_dict()
        doc["findings"] = [
            {"code": f.code, "severity": f.severity.value, "subject": f.subject,
             "message": f.message, "location": str(f.location) if f.location else None}
            for f in blockers
        ]  # fmt: skip
        print_json(doc)
        return 0
    print(
        f"{len(plan.steps)} steps in {len(plan.waves)} waves; strategy {plan.strategy}, "
        f"policy {plan.policy_name}, ages as of {plan.generated_for.isoformat()}"
    )
    for wave in plan.waves:
        rows = []
        for s in wave.steps:
            top = ", ".join(
                f"{r.factor} +{r.contribution:g} ({r.detail})"
                for r in s.reasons[:2]
                if r.contribution > 0
            )
            note = f" [{', '.join(s.flags)}]" if s.flags else ""
            who = "0 (revoke-only)" if s.action == "revoke-only" else len(s.consumers)
            rows.append((s.rank, s.key, s.api, who, f"{s.score:.2f}", top + note))
        title = f"Wave {wave.number}" + (" (pilot)" if wave.pilot else "")
        print_table(["#", "key", "api", "consumers", "score", "top reasons"], rows, title=title)
    for f in blockers:
        print(f"{f.location}: {f.severity.value}: {f.code}: {f.message}" if f.location else f)
    return 0


def _verification_blockers(inv) -> list:
    """Findings that stop a cut-over from being proved (an API without health_path)."""
    from datetime import date

    from workbench.inventory import find_findings
    from workbench.inventory.findings import NO_HEALTH_PATH

    return [f for f in find_findings(inv, today=date.today()) if f.code == NO_HEALTH_PATH]
