"""JUnit report: well-formed XML whose counts match the scan."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from stockade.model.finding import Status
from stockade.report import ReportContext, render


def _parse(ctx: ReportContext) -> ET.Element:
    text = render("junit", ctx)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text)


def test_structure_and_counts(full_ctx: ReportContext) -> None:
    root = _parse(full_ctx)
    result = full_ctx.result
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == len(result.rules) + 1  # one per rule, plus the unreadable inputs
    failures = sum(1 for f in result.findings if f.status is Status.FAIL)
    assert int(root.get("failures", "")) == failures == len(root.findall(".//failure"))
    assert int(root.get("errors", "")) == 2 == len(root.findall(".//error"))
    assert int(root.get("tests", "")) == len(root.findall(".//testcase"))
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped", "")) == len(suite.findall("testcase/skipped"))

    wl001 = next(s for s in suites if s.get("name", "").startswith("WL-001 "))
    (failure,) = wl001.findall("testcase/failure")
    assert failure.get("type") == "critical"
    assert "kubectl patch deployment api" in (failure.text or "")
    props = {p.get("name"): p.get("value") for p in wl001.findall("properties/property")}
    assert props["severity"] == "critical" and props["framework.cis-1.10"] == "5.2.2"

    excepted = root.findall(".//testcase/skipped")
    reasons = [s.get("message", "") for s in excepted]
    assert sum(1 for r in reasons if r.startswith("excepted: ")) == 3
    assert any("did not apply" in (c.get("name") or "") for c in root.iter("testcase"))
    inputs = suites[-1]
    assert inputs.get("name") == "inputs that could not be read"
    assert [e.get("type") for e in inputs.iter("error")] == ["parse", "render"]


def test_passes_are_counted_or_listed(full_ctx: ReportContext, passed_ctx: ReportContext) -> None:
    root = _parse(full_ctx)
    aggregate = [c for c in root.iter("testcase") if " passed on " in (c.get("name") or "")]
    assert aggregate and all(len(c) == 0 for c in aggregate)
    listed = _parse(passed_ctx)
    passes = sum(1 for f in passed_ctx.result.findings if f.status is Status.PASS)
    assert not [c for c in listed.iter("testcase") if " passed on " in (c.get("name") or "")]
    assert len(list(listed.iter("testcase"))) == len(list(root.iter("testcase"))) - len(aggregate) + passes


def test_hostile_strings_stay_data(hostile_ctx: ReportContext) -> None:
    text = render("junit", hostile_ctx)
    root = ET.fromstring(text)  # control characters replaced, markup escaped: still well-formed
    assert "\x1b" not in text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    names = [c.get("name") or "" for c in root.iter("testcase")]
    assert any("Pod/a|b @octocat/<script>alert(1)</script>" in n for n in names)


def test_empty_scan(empty_ctx: ReportContext) -> None:
    root = _parse(empty_ctx)
    assert root.get("failures") == "0" and root.get("errors") == "0"
