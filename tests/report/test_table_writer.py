"""The table writer behind every text table: alignment in terminal cells, escaping, truncation."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from stockade.report._table import Column, aligned_cells, cell_width, table_lines, truncate


def test_columns_two_spaces_apart_header_first_no_trailing_spaces() -> None:
    lines = table_lines(("KIND", "NAME", "NAMESPACE"), [("Pod", "web-1", "shop"), ("Deployment", "api", "")])
    assert lines == [
        "KIND        NAME   NAMESPACE",
        "Pod         web-1  shop",
        "Deployment  api",
    ]


def test_wide_characters_align_by_terminal_cells() -> None:
    lines = table_lines(("NAME", "RESULT"), [("商店", "ok"), ("web", "ok"), ("🔒x", "ok")])
    # 商店 is four cells wide, 🔒x three: the second column starts at cell 6 on every line.
    assert lines == ["NAME  RESULT", "商店  ok", "web   ok", "🔒x   ok"]
    assert {cell_len(line[: line.rindex(" ") + 1]) for line in lines} == {6}


def test_right_alignment_pads_on_the_left() -> None:
    columns = (Column("FRAMEWORK"), Column("SCORE", align="right"), Column("NOTE"))
    lines = table_lines(columns, [("CIS", "100.0%", "all"), ("NSA", "7.5%", "few"), ("日本", "50.0%", "")])
    assert lines == [
        "FRAMEWORK   SCORE  NOTE",
        "CIS        100.0%  all",
        "NSA          7.5%  few",
        "日本        50.0%",
    ]


def test_right_aligned_last_column_is_padded() -> None:
    assert table_lines((Column("N", align="right"),), [("7",), ("1234",)]) == ["   N", "   7", "1234"]


def test_cells_are_escaped_before_they_are_measured() -> None:
    lines = table_lines(("NAME", "NOTE"), [("evil\x1b[2J", "a\nb\tc"), ("ok", "-")])
    # \x1b becomes four visible characters; the newline and tab become one space each.
    assert lines == ["NAME         NOTE", "evil\\x1b[2J  a b c", "ok           -"]
    assert all("\x1b" not in line and "\n" not in line for line in lines)


def test_headers_are_escaped_too() -> None:
    assert table_lines(("A\x07", "B"), [("x", "y")]) == ["A\\x07  B", "x      y"]


def test_empty_table_is_its_header() -> None:
    assert table_lines(("KIND", "NAME"), []) == ["KIND  NAME"]


def test_headerless_empty_table_is_no_lines() -> None:
    assert table_lines(("KIND", "NAME"), [], header=False) == []


def test_headerless_table_with_indent() -> None:
    assert table_lines(("", ""), [("Workloads", "3"), ("RBAC", "12")], header=False, indent="    ") == [
        "    Workloads  3",
        "    RBAC       12",
    ]


def test_rows_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="a row of 1 cells in a table of 2 columns"):
        table_lines(("A", "B"), [("only one",)])


def test_max_width_truncates_with_an_ellipsis_and_keeps_short_cells() -> None:
    columns = (Column("NAME", max_width=8), Column("RESULT"))
    lines = table_lines(columns, [("a-very-long-name", "denied"), ("short", "ok")])
    assert lines == ["NAME      RESULT", "a-very-…  denied", "short     ok"]


def test_truncation_never_splits_a_wide_character() -> None:
    # Seven cells leave six before the ellipsis: three wide characters, never half of a fourth.
    assert truncate("日本語のテキスト", 7) == "日本語…"
    assert truncate("日本語のテキスト", 6) == "日本…"
    assert cell_width(truncate("日本語のテキスト", 6)) == 5


def test_truncation_to_one_cell_is_the_ellipsis() -> None:
    assert truncate("abc", 1) == "…"
    assert truncate("日本", 1) == "…"
    assert truncate("ab", 2) == "ab"


def test_a_header_longer_than_max_width_is_truncated_too() -> None:
    assert table_lines((Column("NAMESPACE", max_width=4),), [("ab",)]) == ["NAM…", "ab"]


def test_truncation_measures_the_escaped_text() -> None:
    # "\x1b" escapes to four characters, which count against the width: seven cells in all.
    assert table_lines((Column("N", max_width=6),), [("\x1bxyz",)], header=False) == ["\\x1bx…"]
    assert table_lines((Column("N", max_width=7),), [("\x1bxyz",)], header=False) == ["\\x1bxyz"]


def test_max_width_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_width must be at least 1"):
        Column("X", max_width=0)


def test_aligned_cells_pad_every_column_but_a_left_aligned_last() -> None:
    columns = (Column("K"), Column("N", align="right"), Column("V"))
    cells = aligned_cells(columns, [("a", "1", "x"), ("bbb", "22", "yy")])
    assert cells == [["K  ", " N", "V"], ["a  ", " 1", "x"], ["bbb", "22", "yy"]]


def test_cell_width_agrees_with_rich_cell_len() -> None:
    for text in ("plain ascii", "", "日本語", "café", "🔒 lock", "e\u0301", "Ünïcödé"):
        assert cell_width(text) == cell_len(text)
