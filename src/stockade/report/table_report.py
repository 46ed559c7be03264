"""The default report, for people at a terminal.

Open findings are grouped by severity (worst first) and rule; then come excepted findings, inputs that
could not be read, skipped inputs and rules, stale exceptions, notices, and a summary with the
compliance scores. The text is the same with and without colour: colour only adds ANSI styling, and
is rendered with rich's style engine (imported only when colour is on, to keep start-up cheap).
Control characters from manifests are shown escaped, so a crafted name cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stockade.model.compliance import ComplianceSummary
from stockade.model.finding import Finding, Severity, Status
from stockade.model.rule import RuleSpec
from stockade.report import ReportContext
from stockade.report._summary import (
    SEVERITIES,
    Summary,
    area_title,
    clean,
    error_text,
    finding_location,
    first,
    group_by_severity_and_rule,
    location_text,
    percent,
    plural,
    rules_by_id,
    stale_text,
    summarize,
    waiver_text,
    with_status,
)
from stockade.report._table import Column, aligned_cells

SKIPPED_SHOWN = 10  # skipped inputs listed one by one; the rest are counted
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

Segment = tuple[str, str | None]
AREA_COLUMNS = (Column(), Column())  # area title, "N failed"
COMPLIANCE_COLUMNS = (Column(), Column(align="right"))  # framework title, score


class _Lines:
    """Lines of styled segments; rendered plain or with ANSI styles at the end."""

    def __init__(self) -> None:
        self.lines: list[list[Segment]] = []

    def add(self, *parts: str | Segment) -> None:
        self.lines.append([(p, None) if isinstance(p, str) else p for p in parts])

    def blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append([])

    def render(self, color: bool) -> str:
        if not color:
            return "\n".join("".join(text for text, _ in line) for line in self.lines).rstrip() + "\n"
        from rich.color import ColorSystem
        from rich.style import Style

        cache: dict[str, Style] = {}

        def paint(text: str, style: str | None) -> str:
            if not style or not text:
                return text
            parsed = cache.get(style)
            if parsed is None:
                parsed = cache[style] = Style.parse(style)
            return parsed.render(text, color_system=ColorSystem.STANDARD)

        return "\n".join("".join(paint(t, s) for t, s in line) for line in self.lines).rstrip() + "\n"


def render(ctx: ReportContext) -> str:
    result = ctx.result
    rules = rules_by_id(result)
    summary = summarize(result, ctx.fail_on)
    out = _Lines()
    targets = ", ".join(clean(t) for t in ctx.targets) or "(no targets)"
    out.add(("Stockade scan", "bold"), f" of {targets}")
    out.add(
        f"{plural(summary.resources_scanned, 'resource')} scanned against {plural(len(result.rules), 'rule')}",
        (f" · generated {ctx.generated_at}", "dim") if ctx.generated_at else "",
    )
    if summary.input_errors:
        out.add(
            (f"! {plural(summary.input_errors, 'input')} could not be read: the results are incomplete", "bold red")
        )
    out.blank()
    _findings(out, with_status(result.findings, Status.FAIL), rules)
    _excepted(out, with_status(result.findings, Status.EXCEPTED))
    _errors(out, ctx, with_status(result.findings, Status.ERROR))
    _skipped(out, ctx, rules)
    _stale(out, ctx)
    if result.notices:
        out.add(("Notices", "bold"), f" ({len(result.notices)})")
        for notice in result.notices:
            out.add(f"  - {clean(notice)}")
        out.blank()
    _summary(out, summary, ctx.fail_on)
    _compliance(out, ctx.compliance)
    return out.render(ctx.color)


def _findings(out: _Lines, failing: Sequence[Finding], rules: Mapping[str, RuleSpec]) -> None:
    if not failing:
        out.add(("No open findings.", "bold green"))
        out.blank()
        return
    for severity, by_rule in group_by_severity_and_rule(failing):
        style = SEVERITY_STYLE[severity]
        count = sum(len(group) for _, group in by_rule)
        out.add((severity.value.upper(), style), f" ({count})")
        for rule_id, group in by_rule:
            rule = rules.get(rule_id)
            title = rule.title if rule else rule_id
            name = f" {rule.name}" if rule else ""
            out.add("  ", (rule_id, style), (name, "dim"), "  ", (title, "bold"), f"  ({len(group)})")
            if rule and rule.remediation:
                out.add("    ", ("remediation: ", "dim"), rule.remediation)
            for finding in group:
                _finding(out, finding, rule)
        out.blank()


def _subject(finding: Finding) -> list[str | Segment]:
    parts: list[str | Segment] = [(clean(finding.resource.display), "bold")]
    if finding.container:
        parts.append(f"  container {clean(finding.container)}")
    parts.append(("  " + clean(finding_location(finding)), "dim"))
    return parts


def _finding(out: _Lines, finding: Finding, rule: RuleSpec | None) -> None:
    out.add("    - ", *_subject(finding))
    out.add(f"      {clean(finding.message)}")
    if finding.path:
        out.add("      ", (f"at {clean(finding.path)}", "dim"))
    if finding.remediation and (rule is None or finding.remediation != rule.remediation):
        out.add("      ", ("fix: ", "green"), clean(finding.remediation))
    if finding.waiver is not None and finding.waiver.expired:
        out.add("      ", (f"exception expired: {clean(waiver_text(finding.waiver))}", "bold yellow"))


def _excepted(out: _Lines, excepted: Sequence[Finding]) -> None:
    if not excepted:
        return
    out.add(("Excepted", "bold"), f" ({len(excepted)}) — waived, not counted as failing")
    for finding in excepted:
        out.add("  - ", (finding.rule_id, SEVERITY_STYLE[finding.severity]), "  ", *_subject(finding))
        if finding.waiver is not None:
            out.add(f"      {clean(waiver_text(finding.waiver))}")
    out.blank()


def _errors(out: _Lines, ctx: ReportContext, unevaluated: Sequence[Finding]) -> None:
    errors = ctx.result.errors
    if not errors and not unevaluated:
        return
    out.add(("Errors", "bold red"), f" ({len(errors) + len(unevaluated)}) — these inputs were not fully checked")
    for error in errors:
        out.add("  - ", (clean(error_text(error)), "red"))
    for finding in unevaluated:
        out.add("  - ", (finding.rule_id, "red"), "  ", *_subject(finding))
        out.add(f"      {clean(finding.message)}")
    out.blank()


def _skipped(out: _Lines, ctx: ReportContext, rules: Mapping[str, RuleSpec]) -> None:
    skipped = ctx.result.skipped_inputs
    if skipped:
        shown, more = first(skipped, SKIPPED_SHOWN)
        out.add(("Skipped inputs", "bold"), f" ({len(skipped)}) — nothing to scan in them")
        for item in shown:
            out.add(f"  - {clean(location_text(item.source, item.line))}: {clean(item.reason)}")
        if more:
            out.add(("  … and " + plural(more, "more input"), "dim"))
        out.blank()
    skipped_rules = ctx.result.skipped_rules
    if skipped_rules:
        out.add(("Skipped rules", "bold"), f" ({len(skipped_rules)}) — could not apply to this scan")
        for rule_id, reason in sorted(skipped_rules.items()):
            rule = rules.get(rule_id)
            name = f" {rule.name}" if rule else ""
            out.add(f"  - {rule_id}{name}: {clean(reason)}")
        out.blank()


def _stale(out: _Lines, ctx: ReportContext) -> None:
    stale = ctx.result.stale_exceptions
    if not stale:
        return
    out.add(("Stale exceptions", "bold yellow"), f" ({len(stale)}) — remove them or fix their match")
    for entry in stale:
        out.add(f"  - {clean(stale_text(entry))}")
    out.blank()


def _summary(out: _Lines, summary: Summary, fail_on: str) -> None:
    out.add(("Summary", "bold"))
    out.add(
        f"  {summary.failed} failed · {summary.passed} passed · {summary.excepted} excepted · "
        f"{plural(summary.errors, 'error')} · {plural(summary.resources_scanned, 'resource')} scanned"
    )
    severity_parts: list[str | Segment] = ["  by severity:"]
    for severity in SEVERITIES:
        count = summary.by_severity[severity]
        severity_parts.append((f" {severity.value} {count}", SEVERITY_STYLE[severity] if count else "dim"))
    out.add(*severity_parts)
    if summary.by_area:
        out.add("  by area:")
        areas = list(summary.by_area.items())
        # Titles aligned; "N failed" is styled by the area's health, and the other counts follow it.
        rows = [(area_title(area), f"{counts.failed} failed") for area, counts in areas]
        for (title, failed), (_, counts) in zip(aligned_cells(AREA_COLUMNS, rows, header=False), areas, strict=True):
            style = "red" if counts.failed or counts.errors else "green"
            extra = f", {counts.errors} errors" if counts.errors else ""
            out.add(f"    {title}  ", (failed, style), f", {counts.passed} passed, {counts.excepted} excepted{extra}")
    if summary.expired_exceptions:
        out.add(
            ("  " + plural(summary.expired_exceptions, "finding") + " re-opened by an expired exception", "bold yellow")
        )
    if fail_on != "none":
        style = "bold red" if summary.blocking else "green"
        out.add("  ", (f"{plural(summary.blocking, 'finding')} at or above --fail-on {fail_on}", style))
    out.blank()


def _compliance(out: _Lines, compliance: Sequence[ComplianceSummary]) -> None:
    if not compliance:
        return
    out.add(("Compliance", "bold"))
    rows = [(item.framework.title, percent(item.score)) for item in compliance]
    for (title, score), item in zip(aligned_cells(COMPLIANCE_COLUMNS, rows, header=False), compliance, strict=True):
        not_evaluated = sum(1 for c in item.controls if c.status == "not-evaluated")
        style = "green" if item.score >= 90 else "yellow" if item.score >= 60 else "red"
        out.add(
            f"  {title}  ",
            (score, style),
            f"  controls: {item.controls_passing} passing, {item.controls_failing} failing, "
            f"{not_evaluated} not evaluated",
        )
