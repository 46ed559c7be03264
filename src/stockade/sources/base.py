"""The result every source returns."""

from __future__ import annotations

from dataclasses import dataclass, field

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
