"""The shared counts every format prints."""

from __future__ import annotations

from stockade.model.finding import Severity, Status
from stockade.report import ReportContext
from stockade.report._summary import summarize
from tests.report.conftest import scan


def test_counts_agree_with_the_findings(full_ctx: ReportContext) -> None:
    result = full_ctx.result
    summary = summarize(result, "high")
    failing = [f for f in result.findings if f.status is Status.FAIL]
    assert summary.failed == len(failing) == sum(summary.by_severity.values())
    assert summary.by_severity[Severity.CRITICAL] == sum(1 for f in failing if f.severity is Severity.CRITICAL)
    assert summary.passed == sum(result.passes.by_rule.values()) > 0
    assert summary.excepted == 3  # two annotation waivers on the DaemonSet, one file exception
    assert summary.errors == 2  # the two unreadable inputs
    assert summary.expired_exceptions == 1
    assert summary.blocking == sum(1 for f in failing if f.severity.rank >= Severity.HIGH.rank)
    assert sum(c.failed for c in summary.by_area.values()) == summary.failed
    assert sum(c.passed for c in summary.by_area.values()) == summary.passed
    assert summary.by_status[Status.SKIPPED] == len(result.skipped_rules) == 1


def test_kept_pass_findings_are_not_counted_twice() -> None:
    without = summarize(scan())
    kept = summarize(scan(include_passed=True))
    assert kept.passed == without.passed
    assert kept.by_status == without.by_status


def test_fail_on_none_blocks_nothing(full_ctx: ReportContext) -> None:
    assert summarize(full_ctx.result, "none").blocking == 0
    critical = summarize(full_ctx.result, "critical")
    assert critical.blocking == critical.by_severity[Severity.CRITICAL] == 1
