"""What every command tells stderr about its inputs, in one shape.

::

    stockade: warning: FILE:LINE: OBJECT: message      an input (or part of one) that could not be read
    stockade: note: skipped FILE:LINE: reason          an input read that holds nothing to check

``LINE`` and ``OBJECT`` appear when known. Text from the inputs (file names, messages quoting a
manifest) is put on one line with control characters escaped, so a crafted file name cannot drive
the terminal. Commands add their own warnings and notes with :func:`warning` and :func:`note`.
"""

from __future__ import annotations

from collections.abc import Iterable

from stockade.model.finding import InputProblem, SkippedInput
from stockade.report._summary import clean, location_text

PREFIX = "stockade: "


def warning(text: str) -> str:
    """One ``stockade: warning: …`` line."""
    return f"{PREFIX}warning: {clean(text)}\n"


def note(text: str) -> str:
    """One ``stockade: note: …`` line."""
    return f"{PREFIX}note: {clean(text)}\n"


def problem_text(problem: InputProblem) -> str:
    about = f"{problem.object}: " if problem.object else ""
    return f"{location_text(problem.source, problem.line)}: {about}{problem.message}"


def skipped_text(skipped: SkippedInput) -> str:
    return f"skipped {location_text(skipped.source, skipped.line)}: {skipped.reason}"


def render_notices(notices: Iterable[str]) -> str:
    """A note per scan notice (an object declared more than once...), "" when none."""
    return "".join(note(n) for n in notices)


def render_problems(errors: Iterable[InputProblem], skipped: Iterable[SkippedInput] = ()) -> str:
    """The stderr lines for inputs that could not be read, then for inputs skipped ("" when none)."""
    return "".join(warning(problem_text(e)) for e in errors) + "".join(note(skipped_text(s)) for s in skipped)
