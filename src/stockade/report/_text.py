"""Plain-text building blocks for the command outputs: aligned tables (rich, no colour) and JSON."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import orjson

from stockade.report._summary import clean

# Tables are as wide as their content: a row is never wrapped, so each stays one line for grep and cut.
_UNBOUNDED_WIDTH = 1_000_000


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Columns two spaces apart, the header first; cells are put on one line with control characters escaped."""
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=None, pad_edge=False, show_edge=False, header_style=None)
    for header in headers:
        grid.add_column(header, no_wrap=True)
    for row in rows:
        grid.add_row(*(clean(cell) for cell in row))
    out = io.StringIO()
    console = Console(
        file=out,
        width=_UNBOUNDED_WIDTH,
        color_system=None,
        markup=False,
        emoji=False,
        highlight=False,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
    )
    console.print(grid)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def json_text(data: object) -> str:
    """Indented JSON and a final newline."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
