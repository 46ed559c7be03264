"""The document splitter: boundaries, start lines and agreement with the parser."""

from __future__ import annotations

from typing import Any

import yaml_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.sources.documents import split_documents


def _values(text: str) -> list[Any]:
    return [
        None if s.empty else yaml_rs.loads(text[s.start : s.end], parse_datetime=False) for s in split_documents(text)
    ]


def test_single_document_without_markers_starts_at_its_first_content_line() -> None:
    segments = split_documents("# licence\n# more\n\napiVersion: v1\nkind: Pod\n")
    assert [(s.first_line, s.line, s.empty) for s in segments] == [(1, 4, False)]


def test_explicit_documents_and_empty_ones_keep_their_index() -> None:
    text = "---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n---\n"
    segments = split_documents(text)
    assert [(s.line, s.empty) for s in segments] == [(2, False), (3, True), (4, True), (7, False), (8, True)]
    assert _values(text) == [{"a": 1}, None, None, {"b": 2}, None]
    assert yaml_rs.loads(text, parse_datetime=False) == [{"a": 1}, None, None, {"b": 2}, None]


def test_document_end_markers_directives_and_bare_documents() -> None:
    text = "a: 1\n...\n%YAML 1.2\n---\nb: 2\n... # done\nc: 3\n...\n# trailing comment\n"
    segments = split_documents(text)
    assert [s.line for s in segments] == [1, 5, 7]
    assert _values(text) == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_marker_lookalikes_are_content() -> None:
    text = "a: |\n  ---\n  ...\nb: --- not a marker\nc: '\n  ---'\n----: dashes\n---x: y\n"
    assert len(split_documents(text)) == 1
    assert _values(text) == [{"a": "---\n...\n", "b": "--- not a marker", "c": " ---", "----": "dashes", "---x": "y"}]


def test_content_on_the_marker_line() -> None:
    text = "--- {a: 1}\n--- # comment\nb: 2\n--- |\n  text\n"
    assert [s.line for s in split_documents(text)] == [1, 3, 4]
    assert _values(text) == [{"a": 1}, {"b": 2}, "text\n"]


def test_crlf_line_ends() -> None:
    text = "a: 1\r\n---\r\nb: 2\r\n"
    assert [s.line for s in split_documents(text)] == [1, 3]
    assert _values(text) == [{"a": 1}, {"b": 2}]


# --- generated streams -------------------------------------------------------------------------

_keys = st.text(alphabet="abcdefghij", min_size=1, max_size=6).map(lambda s: "k" + s)
_scalars = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(alphabet="abcxyz -", min_size=1, max_size=8).map(lambda s: "s" + s.strip()),
)
_bodies = st.dictionaries(_keys, _scalars, min_size=0, max_size=4)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[str, list[tuple[int, dict[str, Any] | None]]]:
    """A stream and, per document, (expected start line, expected value)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines: list[str] = []
    expected: list[tuple[int, dict[str, Any] | None]] = []
    count = draw(st.integers(min_value=1, max_value=6))
    ended = True  # at the start of a stream, or after '...', a document may omit '---'
    for _ in range(count):
        lines.extend(draw(st.lists(st.sampled_from(["", "# note", "   ", "  # indented note"]), max_size=2)))
        body = draw(_bodies)
        explicit = not ended or not body or draw(st.booleans())
        if explicit:
            lines.append(draw(st.sampled_from(["---", "--- ", "--- # start"])))
            lines.extend(draw(st.lists(st.sampled_from(["", "# inside"]), max_size=2)))
        start = len(lines) + 1
        for key, value in body.items():
            lines.append(f"{key}: {value}")
            if draw(st.booleans()):
                lines.append(draw(st.sampled_from(["# after", "", "  # after"])))
        expected.append((start if body else 0, body or None))
        ended = draw(st.booleans())
        if ended:
            lines.append(draw(st.sampled_from(["...", "... # end"])))
    return newline.join(lines) + newline, expected


@settings(max_examples=300, deadline=None)
@given(_streams())
def test_generated_streams_split_where_the_parser_splits(case: tuple[str, list[tuple[int, Any]]]) -> None:
    text, expected = case
    segments = split_documents(text)
    assert len(segments) == len(expected)
    for segment, (line, value) in zip(segments, expected, strict=True):
        assert segment.empty == (value is None)
        if value is not None:
            assert segment.line == line
            assert text.count("\n", 0, segment.start) + 1 == segment.first_line
    assert _values(text) == [value for _, value in expected]
    whole = yaml_rs.loads(text, parse_datetime=False)
    assert (whole if len(expected) > 1 else [whole]) == [value for _, value in expected]
