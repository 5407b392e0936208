"""Small helpers shared by the command modules: common options, JSON and table output."""

from __future__ import annotations

import argparse
import functools
import json
import os
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
    "add_max_bytes_arg",
    "add_workspace_arg",
    "byte_size",
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
    add_max_bytes_arg(parser)  # a workspace command reloads the workspace's inventory


def add_max_bytes_arg(parser: argparse.ArgumentParser) -> None:
    """``--max-bytes SIZE``: raise the 64 MiB guard on inventories and reports explicitly.

    ``cli.main`` applies it around the command (``yamlsafe.size_limit``).
    """
    parser.add_argument(
        "--max-bytes",
        type=byte_size,
        default=None,
        metavar="SIZE",
        help="largest inventory or report accepted, e.g. 256M or 2G (default: 64M)",
    )


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_size(text: str) -> int:
    """``"256M"`` -> 268435456 (K, M, G are powers of 1024; ``MiB``/``MB`` read the same)."""
    raw = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = raw[-1:] if raw[-1:] in ("k", "m", "g") else ""
    number = raw[: len(raw) - len(unit)]
    if not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size: write a whole number of bytes, or one with K, M or G"
        )
    return int(number) * _UNITS[unit]


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(obj: Any) -> None:
    json.dump(to_jsonable(obj), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    """A readable table on stdout (rich when stdout is a terminal, plain columns otherwise)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*("" if c is None else str(c) for c in row))
    _stdout_console()(soft_wrap=False, width=_width(), color_system=_colors()).print(table)


def no_styles() -> bool:
    """NO_COLOR set (no-color.org) or TERM=dumb: plain text even on a terminal (rich alone
    drops only the colours: bold and italic escape codes stayed)."""
    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def _colors() -> str | None:
    return None if no_styles() else "auto"


@functools.cache
def _stdout_console() -> type:
    """rich's Console, except that a reader who stops early (``| head``) ends the command
    as any other output does in main() (exit 0, no traceback); rich itself exits 1."""
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return StdoutConsole


def _width() -> int | None:
    return None if sys.stdout.isatty() else 160


def eprint(*parts: Any) -> None:
    print(*parts, file=sys.stderr)


_BARS: list[Any] = []
"""The progress bars on the screen now (innermost last)."""


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
        console=Console(stderr=True, color_system=_colors()),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        _BARS.append(bar)
        try:
            yield lambda n=1: bar.advance(task, n)
        finally:
            _BARS.remove(bar)


@contextmanager
def bars_paused():
    """Take the progress bars off the screen while the user is asked something: the bar
    redraws its line several times a second and hid a prompt written under it (the CA
    passphrase is asked only once the work under the bar needs it)."""
    paused = [bar for bar in _BARS if bar.live.is_started]
    for bar in paused:
        bar.stop()
    try:
        yield
    finally:
        for bar in paused:
            bar.start()
