"""Small helpers shared by the command modules: common options, JSON and table output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.jsonable import to_jsonable

DEFAULT_WORKSPACE = Path(".workbench")
__all__ = [
    "DEFAULT_WORKSPACE",
    "add_json_arg",
    "add_workspace_arg",
    "eprint",
    "print_json",
    "print_table",
    "progress",
    "to_jsonable",
]


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        type=Path,
        default=DEFAULT_WORKSPACE,
        metavar="DIR",
        help="workspace directory (default: ./.workbench)",
    )


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(obj: Any) -> None:
    json.dump(to_jsonable(obj), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    """A readable table on stdout (rich when stdout is a terminal, plain columns otherwise)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*("" if c is None else str(c) for c in row))
    Console(soft_wrap=False, width=_width()).print(table)


def _width() -> int | None:
    return None if sys.stdout.isatty() else 160


def eprint(*parts: Any) -> None:
    print(*parts, file=sys.stderr)


@contextmanager
def progress(description: str, total: int | None, *, enabled: bool = True):
    """A progress bar on stderr; yields ``advance(n=1)``. Silent when stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
