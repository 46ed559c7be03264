"""Quoted scalars whose continuation lines are indented no deeper than their key.

::

    description: "When set to `true` the TLS is optional, defaults
    to false."

libyaml and the Go YAML parser behind kubectl read this as one string; the Rust parser refuses it
("invalid indentation in multiline quoted scalar"). A quoted scalar's continuation lines lose
their leading white space when the scalar is folded, so indenting them further changes no value:
:func:`reindented` does that for the line the parser names, and the caller parses again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")

REFUSAL: Final = "invalid indentation in multiline quoted scalar"
MAX_FIXES: Final = 200  # continuation lines put right in one document before giving up
_POSITION: Final = re.compile(r"at line (\d+), column (\d+)")


def reindented(text: str, error: BaseException) -> str | None:
    """``text`` with the continuation line ``error`` names indented further, or None when the
    error is another one."""
    message = str(error)
    if REFUSAL not in message:
        return None
    position = _POSITION.search(message)
    if position is None:
        return None
    number = int(position.group(1))
    lines = text.split("\n")
    if not 1 <= number <= len(lines):
        return None
    # Deeper than the line before it (the scalar's opening line or a continuation already put
    # right); called again for the same line, it goes two columns deeper each time.
    line = lines[number - 1]
    body = line.lstrip(" ")
    previous = next((lines[i] for i in range(number - 2, -1, -1) if lines[i].strip()), "")
    indent = max(len(line) - len(body), len(previous) - len(previous.lstrip(" "))) + 2
    lines[number - 1] = " " * indent + body
    return "\n".join(lines)


def parse_leniently(text: str, parse: Callable[[str], T]) -> T:
    """``parse(text)``, putting right what :func:`reindented` can and parsing again; the first
    error stands when that does not help."""
    try:
        return parse(text)
    except Exception as first:
        current, error = text, first
        for _ in range(MAX_FIXES):
            fixed = reindented(current, error)
            if fixed is None:
                break
            try:
                return parse(fixed)
            except Exception as again:
                current, error = fixed, again
        raise first from None
