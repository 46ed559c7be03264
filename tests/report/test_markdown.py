"""Markdown report: fits a pull-request comment and keeps manifest text inert."""

from __future__ import annotations

import re

from stockade.model.finding import Finding, Location, ResourceRef, Severity, Status
from stockade.model.result import ScanResult
from stockade.report import ReportContext, render
from stockade.report.markdown_report import MAX_ROWS, code, md
from tests.report.conftest import context, scan


def test_layout(full_ctx: ReportContext) -> None:
    text = render("markdown", full_ctx)
    caution = text.index("[!CAUTION]")
    assert caution < text.index("| Severity | Open findings |")  # unreadable inputs come first
    assert "broken/deploy.yaml\\:7" in text
    assert "| 🟥 critical | 1 |" in text
    assert "<details><summary><b>WL-001</b> Container runs privileged (1)</summary>" in text
    assert "**Remediation:**" in text
    assert "exceptions.yaml\\#3" in text  # stale exception
    assert "### Compliance" in text and "CIS Kubernetes Benchmark" in text
    assert text.count("<details>") == text.count("</details>")


def test_findings_table_is_capped() -> None:
    result = scan()
    base = next(f for f in result.findings if f.status is Status.FAIL)
    extra = [
        Finding(
            rule_id=base.rule_id,
            status=Status.FAIL,
            severity=Severity.LOW,
            resource=ResourceRef("v1", "Pod", "bulk", f"pod-{n}"),
            message="bulk finding",
            location=Location("bulk.yaml", n + 1),
            fingerprint=f"{n:020x}",
        )
        for n in range(80)
    ]
    big = ScanResult(rules=result.rules, findings=[*result.findings, *extra], passes=result.passes)
    failing = sum(1 for f in big.findings if f.status is Status.FAIL)
    text = render("markdown", context(big, frameworks=()))
    table = text.split("### Open findings", 1)[1].split("### How to fix", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| |")]
    assert len(rows) == MAX_ROWS
    assert f"… and {failing - MAX_ROWS} more" in table


def _outside_code(text: str) -> str:
    """The text with inline code spans removed (their content is literal on GitHub)."""
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


def test_escaping(hostile_ctx: ReportContext) -> None:
    text = render("markdown", hostile_ctx)
    prose = _outside_code(text)
    assert not re.search(r"(?<!\\)<(script|img|/td)", prose)  # every < outside code is escaped
    assert not re.search(r"(?<!\\)@octocat", prose)  # no mention
    assert "\x1b" not in text
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in text
    table = text.split("### Open findings", 1)[1].split("### How to fix", 1)[0]
    rows = [line for line in table.splitlines() if "octocat" in line]
    assert rows
    for line in rows:
        if line:
            # an unescaped | would split the cell: every pipe inside a cell is escaped
            assert len(re.findall(r"(?<!\\)\|", line)) == 6


def test_md_and_code() -> None:
    assert md("a|b\n<c> @d") == "a\\|b \\<c\\> \\@d"
    assert code("kubectl get pods | grep x") == "`kubectl get pods \\| grep x`"
    assert code("a `b` c") == "``a `b` c``"
    assert code("`edge`") == "`` `edge` ``"


def test_empty_scan(empty_ctx: ReportContext) -> None:
    text = render("markdown", empty_ctx)
    assert "No open findings" in text and "[!CAUTION]" not in text
