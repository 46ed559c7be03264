"""HTML report: self-contained, escaped, and its inline script allowed by its own policy."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

from stockade.report import ReportContext, render
from stockade.report.html_report import json_for_script


class _Collect(HTMLParser):
    """Tags, attributes, script bodies and the text of the findings table, as a browser parses them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._open: str | None = None
        self._attrs: dict[str, str | None] = {}
        self.rows = 0
        self._in_findings = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("script", "style"):
            self._open, self._attrs = tag, attributes
        if tag == "table":
            self._in_findings = attributes.get("id") == "findings"
        if tag == "tr" and self._in_findings:
            self.rows += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_findings = False

    def handle_data(self, data: str) -> None:
        if self._open == "script":
            self.scripts.append((self._attrs, data))
        elif self._open == "style":
            self.styles.append(data)
        self._open = None


def _parse(text: str) -> _Collect:
    parser = _Collect()
    parser.feed(text)
    parser.close()
    return parser


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_self_contained_and_policy_matches(full_ctx: ReportContext) -> None:
    text = render("html", full_ctx)
    page = _parse(text)
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "img", "object", "embed")
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
        assert "style" not in attrs  # inline style attributes would need 'unsafe-inline'
    inline = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
    assert len(inline) == 1 and _sha(inline[0]) in csp
    assert len(page.styles) == 1 and _sha(page.styles[0]) in csp
    assert "http://" not in text and "https://" not in text and "@import" not in text


def test_filter_data_matches_table(full_ctx: ReportContext, passed_ctx: ReportContext) -> None:
    for ctx in (full_ctx, passed_ctx):
        page = _parse(render("html", ctx))
        (data,) = [json.loads(body) for attrs, body in page.scripts if attrs.get("id") == "stockade-data"]
        assert page.rows - 1 == len(data["rows"]) == len(ctx.result.findings)  # minus the header row
        assert {row["t"] for row in data["rows"]} <= {"fail", "error", "excepted", "pass"}
    statuses = {row["t"] for row in data["rows"]}
    assert "pass" in statuses


def test_sections(full_ctx: ReportContext) -> None:
    text = render("html", full_ctx)
    assert 'role="alert"' in text and "2 inputs could not be read" in text
    assert '<section class="charts">' in text and text.count("<svg") == 3
    assert 'id="rule-WL-001"' in text and "kubectl patch deployment api" in text
    assert "broken/deploy.yaml:7" in text and "Stale exceptions" in text
    assert "CIS Kubernetes Benchmark v1.10" in text and "5.2.2" in text
    assert "EXPIRED on 2026-01-31" in text


def test_script_injection_is_escaped(hostile_ctx: ReportContext) -> None:
    text = render("html", hostile_ctx)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img" not in text and "</script><script>alert(3)" not in text
    page = _parse(text)
    # exactly the two script elements Stockade writes: the data block and the filter
    assert [t for t, _ in page.tags if t == "script"] == ["script", "script"]
    (data,) = [json.loads(body) for attrs, body in page.scripts if attrs.get("id") == "stockade-data"]
    assert any("<script>alert(1)</script>" in row["x"] for row in data["rows"])  # data intact after decoding


def test_json_for_script_cannot_close_its_element() -> None:
    text = json_for_script({"x": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><!-- & -->"}
    assert re.fullmatch(r"[ -~]*", text)


def test_empty_scan(empty_ctx: ReportContext) -> None:
    text = render("html", empty_ctx)
    assert "No findings." in text and 'role="alert"' not in text
