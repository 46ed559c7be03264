"""Aligned plain-text tables: the one table writer of every text output.

Each cell is put on one line with control characters escaped (:func:`clean`) before it is
measured, so text from the inputs cannot break a row or drive the terminal. Widths are terminal
cells, so wide characters (CJK, most emoji) keep the columns aligned. A row is never wrapped, so
each stays one line for grep and cut; a column with ``max_width`` shortens longer cells with "…".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from stockade.report._summary import clean

Align = Literal["left", "right"]
ELLIPSIS = "…"  # one cell wide


@dataclass(frozen=True, slots=True)
class Column:
    header: str = ""
    align: Align = "left"
    max_width: int | None = None  # in cells, the ellipsis included

    def __post_init__(self) -> None:
        if self.max_width is not None and self.max_width < 1:
            raise ValueError(f"max_width must be at least 1, not {self.max_width}")


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes, for text already through :func:`clean`."""
    if text.isascii():
        # Cleaned ASCII is printable, one cell a character: what cell_len answers, without loading
        # rich (start-up) or calling it for every cell of a large table.
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def truncate(text: str, max_width: int) -> str:
    """``text`` if it fits in ``max_width`` cells, else its longest prefix that fits with "…" after it."""
    if cell_width(text) <= max_width:
        return text
    if text.isascii():
        return text[: max_width - 1] + ELLIPSIS
    from rich.cells import chop_cells

    # chop_cells splits between grapheme clusters, so a wide character or an emoji sequence is never cut in half.
    return (chop_cells(text, max_width - 1)[0] if max_width > 1 else "") + ELLIPSIS


def aligned_cells(
    columns: Sequence[Column | str], rows: Iterable[Sequence[str]], *, header: bool = True
) -> list[list[str]]:
    """Every row (the header first when ``header``) as cells padded to their column's width.

    A plain string is a left-aligned column with that header. The last column, when left-aligned,
    is not padded, so that rows carry no trailing spaces.
    """
    specs = [column if isinstance(column, Column) else Column(column) for column in columns]
    count = len(specs)
    body: list[list[str]] = [[clean(spec.header) for spec in specs]] if header else []
    for row in rows:
        if len(row) != count:
            raise ValueError(f"a row of {len(row)} cells in a table of {count} columns: {row!r}")
        body.append([clean(cell) for cell in row])
    for index, spec in enumerate(specs):
        if spec.max_width is not None:
            limit = spec.max_width
            for cells in body:
                cells[index] = truncate(cells[index], limit)
    sizes = [[cell_width(cell) for cell in cells] for cells in body]
    widths = [max((size[index] for size in sizes), default=0) for index in range(count)]
    last_unpadded = count - 1 if specs and specs[-1].align == "left" else count
    for cells, size in zip(body, sizes, strict=True):
        for index, spec in enumerate(specs):
            room = widths[index] - size[index]
            if room and index != last_unpadded:
                cell = cells[index]
                cells[index] = cell + " " * room if spec.align == "left" else " " * room + cell
    return body


def table_lines(
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[str]],
    *,
    header: bool = True,
    indent: str = "",
    gap: str = "  ",
) -> list[str]:
    """The table as lines: ``indent``, then the cells ``gap`` apart; no trailing spaces."""
    return [(indent + gap.join(cells)).rstrip(" ") for cells in aligned_cells(columns, rows, header=header)]
