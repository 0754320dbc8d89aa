"""Terminal output for the CLI and the conversion report: rich when it is installed, plain
text otherwise. Messages go to stderr, tables to stdout."""

from __future__ import annotations

import sys
from typing import Sequence

try:
    from rich.console import Console
    from rich.table import Table
except ImportError:  # rich is a dependency, but keep the CLI usable without it
    Console = None  # type: ignore[assignment,misc]

_stdout = Console(highlight=False) if Console else None
_stderr = Console(stderr=True, highlight=False) if Console else None


def out(message: str) -> None:
    """A line of results on stdout."""
    if _stdout:
        _stdout.print(message, markup=False)
    else:
        print(message)


def info(message: str) -> None:
    """Progress and status on stderr, so stdout stays clean for results."""
    if _stderr:
        _stderr.print(message, markup=False)
    else:
        print(message, file=sys.stderr)


def error(message: str) -> None:
    if _stderr:
        _stderr.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    else:
        print(f"error: {message}", file=sys.stderr)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table: a rich table on a terminal, aligned plain text otherwise."""
    if _stdout:
        t = Table(title=title, title_justify="left")
        for column in columns:
            t.add_column(column, overflow="fold")
        for row in rows:
            t.add_row(*[str(c) for c in row])
        _stdout.print(t)
        return
    print(plain_table(title, columns, rows))


def plain_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(str(c))] + [len(str(r[i])) for r in rows]) for i, c in enumerate(columns)]
    lines = [title, "  ".join(str(c).ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)
