"""Markdown report sized for a pull-request comment (GitHub-flavoured).

Unreadable inputs come first (a reviewer must not read a short list as a clean bill), then a summary
by severity, a findings table capped at ``MAX_ROWS`` rows, one collapsible section per rule with its
remediation, and the excepted, stale, skipped and compliance sections. Every string that comes from a
manifest is escaped, so a resource name cannot break the table, inject HTML or mention people.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from stockade.model.finding import Finding, Severity, Status
from stockade.model.rule import RuleSpec
from stockade.report import ReportContext
from stockade.report._summary import (
    SEVERITIES,
    area_title,
    clean,
    finding_location,
    first,
    group_by_rule,
    location_text,
    percent,
    plural,
    rules_by_id,
    stale_text,
    summarize,
    waiver_text,
    with_status,
)

MAX_ROWS = 50
MAX_LIST = 20  # errors, skipped inputs, excepted findings listed before "… and N more"
SEVERITY_MARK = {
    Severity.CRITICAL: "🟥",
    Severity.HIGH: "🟧",
    Severity.MEDIUM: "🟨",
    Severity.LOW: "🟦",
    Severity.INFO: "⬜",
}
# ASCII punctuation that means something to GitHub's Markdown or HTML; a backslash makes it literal.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&@:-])")


# GitHub turns a bare ``www.host`` into a live link; an escaped dot keeps it text.
_WWW = re.compile(r"(?i)\b(www)\.")


def md(text: str) -> str:
    """One line of user-controlled text, safe inside a paragraph or a table cell: no markup, HTML,
    mentions or links (``:`` is escaped, so no ``scheme://`` either)."""
    return _WWW.sub(r"\1\\.", _SPECIAL.sub(r"\\\1", clean(text)))


def code(text: str) -> str:
    """User-controlled text as an inline code span (literal: no markup, HTML or mentions inside).

    The fence is longer than any run of backticks in the text; ``|`` keeps its escape, which GitHub
    tables honour even inside code.
    """
    text = clean(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(ctx: ReportContext) -> str:
    result = ctx.result
    rules = rules_by_id(result)
    summary = summarize(result, ctx.fail_on)
    failing = with_status(result.findings, Status.FAIL)
    unevaluated = with_status(result.findings, Status.ERROR)
    out: list[str] = ["## Stockade scan", ""]
    if result.errors or unevaluated:
        out += _errors(ctx, unevaluated)
    out += [
        "| Severity | Open findings |",
        "|---|---:|",
        *(f"| {SEVERITY_MARK[s]} {s.value} | {summary.by_severity[s]} |" for s in SEVERITIES),
        "",
        f"**{summary.failed} open** · {summary.passed} passed · {summary.excepted} excepted · "
        f"{plural(summary.errors, 'error')} · {plural(summary.resources_scanned, 'resource')} scanned"
        + (f" · **{summary.blocking} at or above `{ctx.fail_on}`**" if ctx.fail_on != "none" else ""),
        "",
    ]
    if summary.by_area:
        out += ["<details><summary>By area</summary>", "", "| Area | Open | Passed | Excepted | Errors |"]
        out += ["|---|---:|---:|---:|---:|"]
        out += [
            f"| {area_title(a)} | {c.failed} | {c.passed} | {c.excepted} | {c.errors} |"
            for a, c in summary.by_area.items()
        ]
        out += ["", "</details>", ""]
    if ctx.posture is not None:
        from stockade.report.posture import posture_markdown_rows

        out += ["### Posture: crawl / walk / run", "", "| Area | Stage reached | Next step |", "|---|---|---|"]
        out += posture_markdown_rows(ctx.posture)
        out += [""]
    if summary.expired_exceptions:
        out += [f"⏰ {plural(summary.expired_exceptions, 'finding')} re-opened by an expired exception.", ""]
    if failing:
        out += _findings_table(failing, rules)
        out += _rule_details(failing, rules)
    else:
        out += ["✅ No open findings.", ""]
    out += _excepted(with_status(result.findings, Status.EXCEPTED))
    out += _other_sections(ctx, rules)
    out += _compliance(ctx)
    footer = f"<sub>Stockade {md(ctx.tool_version)}" if ctx.tool_version else "<sub>Stockade"
    if ctx.generated_at:
        footer += f" · {md(ctx.generated_at)}"
    out += [footer + "</sub>"]
    return "\n".join(out) + "\n"


def _errors(ctx: ReportContext, unevaluated: Sequence[Finding]) -> list[str]:
    errors = ctx.result.errors
    total = len(errors) + len(unevaluated)
    lines = [
        f"> [!CAUTION]\n> **{plural(total, 'input')} could not be fully checked** — the results below are incomplete.",
    ]
    items = [
        f"> - {md(location_text(e.source, e.line))}"
        + (f" ({md(e.object)})" if e.object else "")
        + f": {md(e.message)} \\[{md(e.kind)}\\]"
        for e in errors
    ]
    items += [f"> - {md(f.resource.display)} ({f.rule_id}): {md(f.message)}" for f in unevaluated]
    shown, more = first(items, MAX_LIST)
    lines += list(shown)
    if more:
        lines.append(f"> - … and {more} more")
    return [*lines, ""]


def _findings_table(failing: Sequence[Finding], rules: Mapping[str, RuleSpec]) -> list[str]:
    lines = [
        "### Open findings",
        "",
        "| | Rule | Resource | Location | Message |",
        "|---|---|---|---|---|",
    ]
    shown, more = first(failing, MAX_ROWS)
    for finding in shown:
        rule = rules.get(finding.rule_id)
        title = f" {md(rule.title)}" if rule else ""
        resource = md(finding.resource.display) + (f" \\[{md(finding.container)}\\]" if finding.container else "")
        lines.append(
            f"| {SEVERITY_MARK[finding.severity]} | **{finding.rule_id}**{title} | {resource} "
            f"| {md(finding_location(finding))} | {md(finding.message)} |"
        )
    if more:
        lines += ["", f"… and {more} more (see the full report: `stockade scan -f html`)"]
    return [*lines, ""]


def _rule_details(failing: Sequence[Finding], rules: Mapping[str, RuleSpec]) -> list[str]:
    lines = ["### How to fix", ""]
    for rule_id, group in sorted(group_by_rule(failing).items()):
        rule = rules.get(rule_id)
        title = rule.title if rule else rule_id
        lines += [f"<details><summary><b>{rule_id}</b> {md(title)} ({len(group)})</summary>", ""]
        if rule is not None:
            # Rule prose is Stockade's own Markdown, not user input.
            lines += [rule.doc.why, "", f"**Remediation:** {rule.doc.remediation}", ""]
        patches = [f for f in group if f.remediation and (rule is None or f.remediation != rule.remediation)]
        if patches:
            lines += ["| Resource | Fix |", "|---|---|"]
            for finding in patches[:MAX_LIST]:
                lines.append(f"| {md(finding.resource.display)} | {code(finding.remediation)} |")
            if len(patches) > MAX_LIST:
                lines.append(f"| … | and {len(patches) - MAX_LIST} more |")
            lines.append("")
        lines += ["</details>", ""]
    return lines


def _excepted(excepted: Sequence[Finding]) -> list[str]:
    if not excepted:
        return []
    lines = [f"<details><summary>{plural(len(excepted), 'excepted finding')}</summary>", ""]
    lines += ["| Rule | Resource | Waiver |", "|---|---|---|"]
    shown, more = first(excepted, MAX_ROWS)
    for finding in shown:
        waiver = md(waiver_text(finding.waiver)) if finding.waiver else ""
        lines.append(f"| {finding.rule_id} | {md(finding.resource.display)} | {waiver} |")
    if more:
        lines.append(f"| … | and {more} more | |")
    return [*lines, "", "</details>", ""]


def _other_sections(ctx: ReportContext, rules: Mapping[str, RuleSpec]) -> list[str]:
    result = ctx.result
    lines: list[str] = []
    if result.stale_exceptions:
        lines += [f"**{plural(len(result.stale_exceptions), 'stale exception')}** (matched nothing):", ""]
        lines += [f"- {md(stale_text(e))}" for e in result.stale_exceptions]
        lines.append("")
    if result.skipped_rules:
        lines += ["**Skipped rules:**", ""]
        for rule_id, reason in sorted(result.skipped_rules.items()):
            lines.append(f"- {rule_id}: {md(reason)}")
        lines.append("")
    if result.skipped_inputs:
        skipped = result.skipped_inputs
        lines += [f"<details><summary>{plural(len(skipped), 'skipped input')}</summary>", ""]
        shown, more = first(skipped, MAX_LIST)
        lines += [f"- {md(location_text(s.source, s.line))}: {md(s.reason)}" for s in shown]
        if more:
            lines.append(f"- … and {more} more")
        lines += ["", "</details>", ""]
    if result.notices:
        lines += ["**Notices:**", "", *(f"- {md(n)}" for n in result.notices), ""]
    return lines


def _compliance(ctx: ReportContext) -> list[str]:
    if not ctx.compliance:
        return []
    lines = [
        "### Compliance",
        "",
        "| Framework | Score | Controls passing | Controls failing |",
        "|---|---:|---:|---:|",
    ]
    for item in ctx.compliance:
        lines.append(
            f"| {md(item.framework.title)} | {percent(item.score)} | {item.controls_passing} "
            f"| {item.controls_failing} |"
        )
    return [*lines, ""]
