"""Text from inputs made safe to show: undecodable bytes in file names, control, bidirectional and
zero-width characters. Every report and command message goes through these two functions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# Lone surrogates: what Python makes of bytes a file name could not decode (surrogateescape), or
# what a JSON ``\ud800`` escape holds. No encoder accepts them.
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 controls, and the characters that reorder or hide text (bidirectional overrides and
# isolates, zero-width spaces and joiners, line and paragraph separators, the byte-order mark).
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escaped_surrogate(match: re.Match[str]) -> str:
    point = ord(match.group())
    return f"\\x{point - 0xDC00:02x}" if 0xDC80 <= point <= 0xDCFF else f"\\u{point:04x}"


def safe_text(text: str) -> str:
    """``text`` with undecodable bytes written as ``\\xff`` (other lone surrogates as ``\\ud800``),
    so it can be encoded as UTF-8 (JSON, XML, HTML, a terminal) and still names what it named."""
    return _SURROGATE.sub(_escaped_surrogate, text) if _SURROGATE.search(text) else text


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def visible(text: str) -> str:
    """``text`` with every control, bidirectional and zero-width character (newlines too) shown as an
    escape (``\\x1b``, ``\\u202e``), and undecodable bytes as ``\\xff``: it reads as it is stored."""
    return _HIDDEN.sub(_escaped, safe_text(text))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
