"""Counting and wording shared by every report format, so that all of them agree on the numbers.

Counts follow one convention everywhere:

- ``by_severity``: open (``fail``) findings per effective severity, worst first, every severity listed;
- ``by_status``: findings per status, where ``pass`` is the number of checks that passed (counted even
  when pass findings were not kept) and ``skipped`` the number of rules that did not apply;
- ``by_area``: per area of the selected rules, open / excepted / error / pass counts;
- ``errors``: inputs that could not be read plus checks that could not be evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from stockade.model.finding import Area, Finding, InputProblem, Severity, Status, Waiver
from stockade.model.result import ScanResult
from stockade.model.rule import RuleSpec
from stockade.model.text import visible
from stockade.model.waiver import WaiverEntry

SEVERITIES: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: -s.rank))
STATUSES: tuple[Status, ...] = (Status.FAIL, Status.ERROR, Status.EXCEPTED, Status.PASS, Status.SKIPPED)
UNKNOWN_AREA = "unknown"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AreaCounts:
    failed: int = 0
    excepted: int = 0
    errors: int = 0
    passed: int = 0


@dataclass(frozen=True, slots=True)
class Summary:
    by_severity: Mapping[Severity, int]
    by_status: Mapping[Status, int]
    by_area: Mapping[str, AreaCounts]  # area id → counts, in the order of Area
    resources_scanned: int
    passed: int
    failed: int
    excepted: int
    errors: int  # unreadable inputs + checks that could not be evaluated
    input_errors: int
    expired_exceptions: int  # open findings whose exception has expired
    blocking: int  # open findings at or above --fail-on (0 when fail_on is "none")


def rules_by_id(result: ScanResult) -> dict[str, RuleSpec]:
    return {rule.id: rule for rule in result.rules}


def area_of(rules: Mapping[str, RuleSpec], rule_id: str) -> str:
    rule = rules.get(rule_id)
    return rule.area.value if rule is not None else UNKNOWN_AREA


def area_title(area: str) -> str:
    return Area(area).label if area in _AREA_IDS else area


_AREA_IDS = frozenset(a.value for a in Area)


def fail_on_rank(fail_on: str) -> int | None:
    """The lowest severity rank that fails a gate, or None for ``none`` (or anything unknown)."""
    try:
        return Severity.parse(fail_on).rank
    except ValueError:
        return None


def summarize(result: ScanResult, fail_on: str = "high") -> Summary:
    rules = rules_by_id(result)
    severity = dict.fromkeys(SEVERITIES, 0)
    status = dict.fromkeys(STATUSES, 0)
    areas: dict[str, dict[str, int]] = {}
    for rule in result.rules:
        areas.setdefault(rule.area.value, {"failed": 0, "excepted": 0, "errors": 0, "passed": 0})
    for rule_id, count in result.passes.by_rule.items():
        _area_bucket(areas, area_of(rules, rule_id))["passed"] += count
    floor = fail_on_rank(fail_on)
    blocking = expired = 0
    for finding in result.findings:
        if finding.status is Status.PASS:
            continue  # counted through result.passes, whether or not pass findings were kept
        status[finding.status] += 1
        bucket = _area_bucket(areas, area_of(rules, finding.rule_id))
        if finding.status is Status.FAIL:
            severity[finding.severity] += 1
            bucket["failed"] += 1
            if floor is not None and finding.severity.rank >= floor:
                blocking += 1
            if finding.waiver is not None and finding.waiver.expired:
                expired += 1
        elif finding.status is Status.EXCEPTED:
            bucket["excepted"] += 1
        elif finding.status is Status.ERROR:
            bucket["errors"] += 1
    passed = sum(result.passes.by_rule.values())
    status[Status.PASS] = passed
    status[Status.SKIPPED] = len(result.skipped_rules)
    order: dict[str, int] = {area.value: index for index, area in enumerate(Area)}
    by_area = {
        area: AreaCounts(**counts) for area, counts in sorted(areas.items(), key=lambda kv: order.get(kv[0], 99))
    }
    return Summary(
        by_severity=severity,
        by_status=status,
        by_area=by_area,
        resources_scanned=result.resources_scanned,
        passed=passed,
        failed=status[Status.FAIL],
        excepted=status[Status.EXCEPTED],
        errors=len(result.errors) + status[Status.ERROR],
        input_errors=len(result.errors),
        expired_exceptions=expired,
        blocking=blocking,
    )


def _area_bucket(areas: dict[str, dict[str, int]], area: str) -> dict[str, int]:
    return areas.setdefault(area, {"failed": 0, "excepted": 0, "errors": 0, "passed": 0})


# -- grouping ------------------------------------------------------------------------------------


def with_status(findings: Iterable[Finding], *statuses: Status) -> list[Finding]:
    return [f for f in findings if f.status in statuses]


def group_by_severity_and_rule(findings: Iterable[Finding]) -> list[tuple[Severity, list[tuple[str, list[Finding]]]]]:
    """Worst severity first; within one severity, rules by id; findings keep their order."""
    groups: dict[Severity, dict[str, list[Finding]]] = {}
    for finding in findings:
        groups.setdefault(finding.severity, {}).setdefault(finding.rule_id, []).append(finding)
    return [(severity, sorted(groups[severity].items())) for severity in SEVERITIES if severity in groups]


def group_by_rule(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.rule_id, []).append(finding)
    return groups


# -- wording ---------------------------------------------------------------------------------------


def clean(text: str) -> str:
    """User-controlled text on one line: whitespace runs become one space, and control,
    bidirectional and zero-width characters (and undecodable bytes) are made visible (``\\x1b``,
    ``\\u202e``, ``\\xff``), so a crafted string can neither drive a terminal nor read as other text.
    Every human-facing format calls this (or :func:`visible`) on text from inputs."""
    return visible(" ".join(text.split()))


def location_text(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file


def finding_location(finding: Finding) -> str:
    return location_text(finding.location.file, finding.location.line)


def waiver_text(waiver: Waiver) -> str:
    """``reason [source] until DATE`` — who waived it, why, and until when."""
    where = "annotation stockade.io/ignore" if waiver.source == "annotation" else waiver.source
    until = f" until {waiver.expires}" if waiver.expires else " (no expiry)"
    if waiver.expired:
        until = f" — EXPIRED on {waiver.expires}"
    return f"{waiver.reason} [{where}]{until}"


def error_text(error: InputProblem) -> str:
    parts = [location_text(error.source, error.line)]
    if error.object:
        parts.append(error.object)
    return f"{' '.join(parts)}: {error.message} ({error.kind})"


def stale_scope(entry: WaiverEntry) -> str:
    """What a stale exception was meant to match, e.g. ``WL-001 DaemonSet monitoring/node-exporter*``."""
    target = f"{entry.namespace}/{entry.name}" if entry.namespace != "*" else entry.name
    kind = entry.kind if entry.kind != "*" else "any kind"
    container = f" container {entry.container}" if entry.container else ""
    return f"{','.join(entry.rules)} {kind} {target}{container}"


def stale_text(entry: WaiverEntry) -> str:
    owner = f", owner {entry.owner}" if entry.owner else ""
    expires = f", expires {entry.expires.isoformat()}" if entry.expires else ""
    return f"{entry.source}: {stale_scope(entry)} matched nothing ({entry.reason}{owner}{expires})"


def percent(score: float) -> str:
    return f"{score:.1f}%"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def first(items: Sequence[T], limit: int) -> tuple[Sequence[T], int]:
    """The first ``limit`` items and how many were left out."""
    return items[:limit], max(0, len(items) - limit)
