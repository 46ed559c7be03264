"""Splitting a YAML stream into its documents without parsing it.

A line that starts with ``---`` or ``...`` followed by a space, a tab or the end of the line is a
document marker wherever it appears (YAML forbids that text at column 0 inside any scalar), so
one pass of ``str.find`` finds every document boundary. Each document can then be parsed on its
own: a broken document costs one error instead of the whole file, and every document's first
line is known without asking the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Segment:
    """One document's slice ``text[start:end]`` of a stream.

    ``first_line`` is the 1-based line number of ``start``; ``line`` is the line where the
    document's content begins (its ``---`` line when the content starts on it, the marker line for
    an empty document); ``empty`` means the slice holds only markers, directives, comments and
    blank lines, which YAML reads as an empty (null) document.
    """

    start: int
    end: int
    first_line: int
    line: int
    empty: bool


_NOT_BLANK = re.compile(r"[^ \t\r\n]")
# A marker line after a line break (the regex engine finds the literal newline quickly).
_MARKER = re.compile(r"\n(---|\.\.\.)(?=[ \t\r\n]|\Z)")


def split_documents(text: str) -> list[Segment]:
    """The documents of ``text`` in order, empty ones included (they keep document indexes exact)."""
    return _Splitter(text).run()


class _Splitter:
    def __init__(self, text: str) -> None:
        self.text = text
        self._line_pos = 0
        self._line_no = 1

    def line_at(self, offset: int) -> int:
        """1-based line of ``offset``; cheap when offsets come in increasing order."""
        if offset < self._line_pos:
            self._line_pos, self._line_no = 0, 1
        self._line_no += self.text.count("\n", self._line_pos, offset)
        self._line_pos = offset
        return self._line_no

    def run(self) -> list[Segment]:
        text = self.text
        n = len(text)
        segments: list[Segment] = []
        region = 0  # start of text that belongs to no document yet
        open_doc: tuple[int, int] | None = None  # (slice start, offset of its '---') while open
        boundaries: list[tuple[int, bool | None]] = [*_markers(text), (n, None)]
        for offset, is_start in boundaries:
            if open_doc is not None:
                start, marker = open_doc
                if is_start is False:  # '...' ends the document; its line belongs to it
                    end = _next_line(text, offset)
                    segments.append(self._explicit(start, marker, offset, end))
                    open_doc, region = None, end
                else:
                    segments.append(self._explicit(start, marker, offset, offset))
                    open_doc = (offset, offset) if is_start else None
                continue
            content = _first_content(text, region, offset, directives=True)
            if content is not None:  # a bare document (no '---' before it)
                end = _next_line(text, offset) if is_start is False else offset
                segments.append(Segment(region, end, self.line_at(region), self.line_at(content), False))
                region = end
                if is_start:
                    open_doc = (offset, offset)
            elif is_start:  # directives and comments before '---' belong to that document
                open_doc = (region, offset)
            elif is_start is False:  # a stray '...' ends nothing
                region = _next_line(text, offset)
        return segments

    def _explicit(self, start: int, marker: int, content_end: int, end: int) -> Segment:
        text = self.text
        first_line = self.line_at(start)
        marker_line = self.line_at(marker)
        eol = text.find("\n", marker, content_end)
        eol = content_end if eol < 0 else eol
        rest = _NOT_BLANK.search(text, marker + 3, eol)
        if rest is not None and text[rest.start()] != "#":
            return Segment(start, end, first_line, marker_line, False)
        content = _first_content(text, eol + 1, content_end, directives=False)
        if content is None:
            return Segment(start, end, first_line, marker_line, True)
        return Segment(start, end, first_line, self.line_at(content), False)


def _markers(text: str) -> list[tuple[int, bool]]:
    """Offsets of '---' (True) and '...' (False) marker lines, in order."""
    found = [(match.start() + 1, match[1] == "---") for match in _MARKER.finditer(text)]
    if text.startswith(("---", "...")) and (len(text) == 3 or text[3] in " \t\r\n"):
        found.insert(0, (0, text[0] == "-"))
    return found


def _next_line(text: str, offset: int) -> int:
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


def _first_content(text: str, start: int, end: int, *, directives: bool) -> int | None:
    """Offset of the first character of the first line in ``[start, end)`` that is not blank, a
    comment or (when ``directives``) a ``%`` directive; None when there is none."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        found = _NOT_BLANK.search(text, pos, line_end)
        if found is not None:
            char = text[found.start()]
            if char != "#" and not (directives and char == "%" and found.start() == pos):
                return found.start()
        pos = line_end + 1
    return None
