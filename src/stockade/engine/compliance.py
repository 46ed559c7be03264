"""Per-framework compliance: for every control, how many checks passed and failed."""

from __future__ import annotations

from collections import Counter

from stockade.frameworks import Framework
from stockade.model.compliance import ComplianceSummary, ControlResult
from stockade.model.finding import Status
from stockade.model.result import ScanResult


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
