"""A framework's compliance summary: for every control, how many checks passed and failed."""

from __future__ import annotations

from dataclasses import dataclass

from stockade.frameworks import Framework


@dataclass(frozen=True, slots=True)
class ControlResult:
    control_id: str
    title: str
    rules: tuple[str, ...]  # rule ids mapped to the control that ran
    passed: int
    failed: int
    excepted: int
    errors: int
    skipped_rules: tuple[str, ...]

    @property
    def status(self) -> str:
        """fail / pass / not-evaluated (no rule of ours covers it, or none ran)."""
        if self.failed or self.errors:
            return "fail"
        if self.passed or self.excepted:
            return "pass"
        return "not-evaluated"


@dataclass(frozen=True, slots=True)
class ComplianceSummary:
    framework: Framework
    controls: tuple[ControlResult, ...]

    @property
    def score(self) -> float:
        """Percentage of evaluated checks that passed (excepted counts as passed: it was accepted)."""
        good = sum(c.passed + c.excepted for c in self.controls)
        total = good + sum(c.failed + c.errors for c in self.controls)
        return 100.0 * good / total if total else 100.0

    @property
    def controls_passing(self) -> int:
        return sum(1 for c in self.controls if c.status == "pass")

    @property
    def controls_failing(self) -> int:
        return sum(1 for c in self.controls if c.status == "fail")
