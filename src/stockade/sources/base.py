"""What every source is (:class:`Source`) and returns (:class:`SourceResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from stockade.model.finding import InputProblem, SkippedInput
from stockade.model.resource import Resource


@dataclass(slots=True)
class SourceResult:
    """Objects read, inputs that could not be read, and inputs that held nothing to scan."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[InputProblem] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)
    # Facts about where the objects came from (cluster version, collection time, …).
    facts: dict[str, object] = field(default_factory=dict)

    def extend(self, other: SourceResult) -> None:
        self.resources.extend(other.resources)
        self.errors.extend(other.errors)
        self.skipped.extend(other.skipped)
        self.facts.update(other.facts)


# Told how a long step advances: (what is happening, done, total); total 0 means "not known yet".
# Sources and the engine call it; whoever draws progress (the CLI's bar) implements it.
ProgressCallback = Callable[[str, int, int], None]


@runtime_checkable
class Source(Protocol):
    """Anything that can be scanned: files, a live cluster, a snapshot, or a caller's own source.

    ``collect`` reads everything it can and reports what it could not read as input problems in the
    result; it raises :class:`~stockade.errors.SourceError` only when it cannot start at all.
    """

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult: ...
