"""JUnit XML report for CI test views.

One ``testsuite`` per selected rule, one ``testcase`` per finding: ``failure`` for an open finding,
``error`` for a check that could not be evaluated, ``skipped`` for an excepted finding (with the
waiver) and for a rule that did not apply. Passing checks appear as test cases of their own when the
scan kept pass findings, otherwise as one test case per rule that counts them. Inputs that could not
be read get a suite of their own, so a CI view never shows green over an unreadable manifest.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from stockade.model.finding import Finding, Status
from stockade.model.rule import RuleSpec
from stockade.model.text import visible
from stockade.report import ReportContext
from stockade.report._summary import error_text, finding_location, group_by_rule, location_text, waiver_text

# Characters XML 1.0 cannot carry at all (escaping does not help): never passed through.
_INVALID_XML = re.compile("[\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text from inputs for an attribute or a line of an element: control, bidirectional and
    zero-width characters (line breaks too) and undecodable bytes shown as escapes, so the XML stays
    valid and a name cannot forge lines."""
    return _INVALID_XML.sub("\ufffd", visible(text))


def xml_lines(lines: Sequence[str]) -> str:
    """Element text of several lines, each made safe by :func:`xml_text`."""
    return "\n".join(xml_text(line) for line in lines)


def render(ctx: ReportContext) -> str:
    result = ctx.result
    root = ET.Element("testsuites", name="stockade")
    by_rule = group_by_rule(result.findings)
    known = {rule.id for rule in result.rules}
    suites = [_rule_suite(ctx, rule, by_rule.get(rule.id, [])) for rule in result.rules]
    # findings of rules that were not passed in still belong in the report
    suites += [_rule_suite(ctx, None, group) for rid, group in sorted(by_rule.items()) if rid not in known]
    if result.errors:
        suites.append(_inputs_suite(ctx))
    if ctx.posture is not None:
        suites.append(_posture_suite(ctx))
    for suite in suites:
        root.append(suite)
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _posture_suite(ctx: ReportContext) -> ET.Element:
    """One testcase per area and stage (scan --posture): a failure for a stage not met, skipped for
    one Stockade cannot judge from what it read."""
    from stockade.posture import Met

    assert ctx.posture is not None
    suite = _suite("posture", ctx)
    failures = skipped = 0
    for area in ctx.posture.areas:
        for stage in area.stages:
            case = _case(suite, f"posture.{area.area.value}", stage.stage.value)
            evidence = [
                f"{c.met.value}: {c.criterion.text} ({c.criterion.guide}): {c.evidence}" for c in stage.criteria
            ]
            if stage.met is Met.NOT_MET:
                failures += 1
                failure = ET.SubElement(case, "failure", message=xml_text(area.next_step), type="posture")
                failure.text = xml_lines(evidence)
            elif stage.met is Met.NOT_ASSESSED:
                skipped += 1
                ET.SubElement(case, "skipped", message=xml_text("not assessed from what was read"))
    suite.set("tests", str(sum(len(a.stages) for a in ctx.posture.areas)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return suite


def _suite(name: str, ctx: ReportContext) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(name))
    if ctx.generated_at:
        suite.set("timestamp", ctx.generated_at.removesuffix("Z"))
    suite.set("time", "0")
    return suite


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=xml_text(classname), name=xml_text(name), time="0")


def _properties(suite: ET.Element, values: Sequence[tuple[str, str]]) -> None:
    properties = ET.SubElement(suite, "properties")
    for name, value in values:
        ET.SubElement(properties, "property", name=name, value=xml_text(value))


def _rule_suite(ctx: ReportContext, rule: RuleSpec | None, findings: Sequence[Finding]) -> ET.Element:
    rule_id = rule.id if rule else findings[0].rule_id
    suite = _suite(f"{rule_id} {rule.name}: {rule.title}" if rule else rule_id, ctx)
    if rule is not None:
        _properties(
            suite,
            [
                ("severity", rule.severity.value),
                ("area", rule.area),
                ("stage", rule.stage.value),
                *((f"framework.{fid}", ", ".join(ids)) for fid, ids in sorted(rule.frameworks.items())),
            ],
        )
    classname = f"stockade.{rule_id}"
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    skipped_reason = ctx.result.skipped_rules.get(rule_id)
    if skipped_reason is not None:
        case = _case(suite, classname, f"{rule_id} did not apply")
        ET.SubElement(case, "skipped", message=xml_text(skipped_reason))
        counts["tests"] += 1
        counts["skipped"] += 1
    pass_findings = 0
    for finding in findings:
        case = _case(suite, classname, _case_name(finding))
        counts["tests"] += 1
        if finding.status is Status.FAIL:
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=xml_text(finding.message), type=finding.severity.value)
            failure.text = xml_lines(_details(finding))
        elif finding.status is Status.ERROR:
            counts["errors"] += 1
            error = ET.SubElement(case, "error", message=xml_text(finding.message), type="evaluate")
            error.text = xml_lines(_details(finding))
        elif finding.status in (Status.EXCEPTED, Status.SKIPPED):
            counts["skipped"] += 1
            reason = waiver_text(finding.waiver) if finding.waiver else finding.message
            ET.SubElement(case, "skipped", message=xml_text(f"excepted: {reason}"))
        else:
            pass_findings += 1
    passes = ctx.result.passes.by_rule.get(rule_id, 0)
    if passes and not pass_findings:  # pass findings were not kept: one case stands for all of them
        _case(suite, classname, f"{rule_id} passed on {passes} check{'s' if passes != 1 else ''}")
        counts["tests"] += 1
    for attribute, value in counts.items():
        suite.set(attribute, str(value))
    return suite


def _case_name(finding: Finding) -> str:
    container = f" container {finding.container}" if finding.container else ""
    path = f" {finding.path}" if finding.path else ""
    return f"{finding.resource.display}{container}{path}"


def _details(finding: Finding) -> list[str]:
    lines = [
        f"{finding.rule_id} ({finding.severity.value}) {finding.resource.display}",
        f"location: {finding_location(finding)}",
    ]
    if finding.container:
        lines.append(f"container: {finding.container}")
    if finding.path:
        lines.append(f"path: {finding.path}")
    lines.append(f"message: {finding.message}")
    if finding.remediation:
        lines.append(f"remediation: {finding.remediation}")
    if finding.waiver is not None and finding.waiver.expired:
        lines.append(f"exception expired: {waiver_text(finding.waiver)}")
    lines.append(f"fingerprint: {finding.fingerprint}")
    return lines


def _inputs_suite(ctx: ReportContext) -> ET.Element:
    errors = ctx.result.errors
    suite = _suite("inputs that could not be read", ctx)
    for error in errors:
        name = location_text(error.source, error.line) + (f" {error.object}" if error.object else "")
        case = _case(suite, "stockade.inputs", name)
        element = ET.SubElement(case, "error", message=xml_text(error.message), type=xml_text(error.kind))
        element.text = xml_text(error_text(error))
    suite.set("tests", str(len(errors)))
    suite.set("failures", "0")
    suite.set("errors", str(len(errors)))
    suite.set("skipped", "0")
    return suite
