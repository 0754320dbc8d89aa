"""Terminal output for the CLI and the conversion report: rich when it is installed, plain
text otherwise. Messages go to stderr, tables to stdout."""

from __future__ import annotations

import itertools
import sys
import textwrap
from typing import Sequence

try:
    from rich import box
    from rich.console import Console
    from rich.table import Table
except ImportError:  # rich is a dependency, but keep the CLI usable without it
    Console = None  # type: ignore[assignment,misc]

COLUMN_GAP = "  "  # between plain-text columns
MIN_COLUMN_WIDTH = 6  # a plain-text column fitted to a width never gets narrower

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


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], *,
          max_width: int | None = None, wide: bool = False) -> None:
    """Print a table: a rich table when rich is installed, aligned plain text otherwise.

    Parameters
    ----------
    title : str
        Printed above the table.
    columns : sequence of str
        Column headers; a header or a cell may hold several lines.
    rows : sequence of sequences
        Cells, converted with ``str``.
    max_width : int, optional
        Fit the table in this many columns (or the terminal's width, when narrower), in a
        compact style without vertical rules; cells wrap to fit.
    wide : bool
        Never wrap a cell: the table is as wide as its content, even past the terminal.

    With neither, rich fits the table to the terminal and plain text is as wide as its content.
    """
    if not _stdout:
        print(plain_table(title, columns, rows, max_width=max_width))
        return
    compact = {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False,
               "padding": (0, 1, 0, 0)}
    t = Table(title=title, title_justify="left", **(compact if max_width else {}))
    for column in columns:
        t.add_column(column, overflow="fold")
    for row in rows:
        t.add_row(*[str(c) for c in row])
    if wide:
        # A console wider than any table: rich then never shrinks a column.
        Console(highlight=False, width=1 << 20).print(t)
    else:
        _stdout.print(t, width=max_width)


def plain_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], *,
                max_width: int | None = None) -> str:
    """The table as aligned text, two spaces between columns.

    Parameters
    ----------
    title, columns, rows
        As for :func:`table`.
    max_width : int, optional
        Fit every line in this many characters: the widest columns narrow until the table fits
        (none below ``MIN_COLUMN_WIDTH``) and their cells wrap. Default: as wide as the content.
    """
    cells = [[str(cell).splitlines() or [""] for cell in row] for row in [columns, *rows]]
    widths = [max(len(line) for row in cells for line in row[i]) for i in range(len(columns))]
    if max_width is not None:
        widths = _narrowed(widths, max_width - len(COLUMN_GAP) * (len(columns) - 1))
    lines = [title]
    for row in cells:
        wrapped = [_wrapped(cell, width) for cell, width in zip(row, widths)]
        for parts in itertools.zip_longest(*wrapped, fillvalue=""):
            lines.append(COLUMN_GAP.join(p.ljust(w) for p, w in zip(parts, widths)).rstrip())
    return "\n".join(lines)


def _narrowed(widths: list[int], room: int) -> list[int]:
    """Column widths summing to at most ``room``, taking from the widest column first."""
    widths = list(widths)
    while sum(widths) > room and max(widths) > MIN_COLUMN_WIDTH:
        widths[widths.index(max(widths))] -= 1
    return widths


def _wrapped(lines: list[str], width: int) -> list[str]:
    """A cell's lines, each longer than ``width`` wrapped (leading indentation kept)."""
    return [part for line in lines
            for part in ([line] if len(line) <= width else textwrap.wrap(line, width))]
