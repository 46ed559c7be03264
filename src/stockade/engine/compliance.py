"""Per-framework compliance: for every control, how many checks passed and failed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from stockade.engine.evaluate import ScanResult
from stockade.frameworks import Framework
from stockade.model.finding import Status


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


def summarize(result: ScanResult, framework: Framework) -> ComplianceSummary:
    statuses: dict[str, Counter[Status]] = {}
    for finding in result.findings:
        statuses.setdefault(finding.rule_id, Counter())[finding.status] += 1
    controls = []
    for control in framework.controls:
        rule_ids = tuple(r.id for r in result.rules if control.id in r.frameworks.get(framework.id, ()))
        counts: Counter[Status] = Counter()
        for rid in rule_ids:
            counts.update(statuses.get(rid, Counter()))
        # Passes are counted, not kept as findings, unless --include-passed asked for them.
        passed = sum(result.passes.by_rule.get(rid, 0) for rid in rule_ids)
        controls.append(
            ControlResult(
                control_id=control.id,
                title=control.title,
                rules=rule_ids,
                passed=passed,
                failed=counts[Status.FAIL],
                excepted=counts[Status.EXCEPTED],
                errors=counts[Status.ERROR],
                skipped_rules=tuple(rid for rid in rule_ids if rid in result.skipped_rules),
            )
        )
    return ComplianceSummary(framework, tuple(controls))
