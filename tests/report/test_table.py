"""Table report: readable plain text, colour only on request, terminal escapes neutralised."""

from __future__ import annotations

import dataclasses
import re

from stockade.report import ReportContext, render
from stockade.report.table_report import SKIPPED_SHOWN, clean

ANSI = "\x1b["


def test_plain_text_has_no_ansi(full_ctx: ReportContext) -> None:
    text = render("table", full_ctx)
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0] == "Stockade scan of k8s/, charts/web"
    assert "! 2 inputs could not be read: the results are incomplete" in lines
    assert text.index("CRITICAL (1)") < text.index("HIGH (") < text.index("MEDIUM (") < text.index("LOW (")
    assert "  WL-001 privileged-container  Container runs privileged  (1)" in lines
    assert "    - Deployment/shop/api  container app  test.yaml:1" in lines


def test_colour_adds_styles_but_not_text(full_ctx: ReportContext) -> None:
    plain = render("table", full_ctx)
    coloured = render("table", dataclasses.replace(full_ctx, color=True))
    assert ANSI in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_sections(full_ctx: ReportContext) -> None:
    text = render("table", full_ctx)
    excepted = text.split("Excepted (3)", 1)[1].split("Errors (", 1)[0]
    assert (
        "legacy debug image runs as root (accepted by platform-team) [exceptions.yaml#1] until 2027-03-31" in excepted
    )
    assert "[annotation stockade.io/ignore] (no expiry)" in excepted
    assert (
        "exception expired: needs the node network for a packet capture [exceptions.yaml#2] — EXPIRED on 2026-01-31"
        in text
    )
    errors = text.split("Errors (2)", 1)[1].split("Skipped inputs", 1)[0]
    assert "broken/deploy.yaml:7: mapping values are not allowed here (parse)" in errors
    assert "charts/web Deployment/shop/web: helm template failed: exit status 1 (render)" in errors
    skipped = text.split("Skipped inputs (12)", 1)[1].split("Skipped rules", 1)[0]
    assert skipped.count("docker-compose-") == SKIPPED_SHOWN and "… and 2 more inputs" in skipped
    assert "IM-003 image-registry-not-allowed: no registry allow-list configured" in text
    assert "exceptions.yaml#3: WL-001 any kind legacy/batch-* matched nothing" in text
    summary = text.split("\nSummary\n", 1)[1]
    assert "by severity: critical 1" in summary and "container privileges" in summary
    assert "6 findings at or above --fail-on high" in summary
    assert "CIS Kubernetes Benchmark v1.10" in summary and "%" in summary


def test_terminal_escapes_from_manifests_are_shown_not_obeyed(hostile_ctx: ReportContext) -> None:
    text = render("table", hostile_ctx)
    assert "\x1b" not in text
    assert "c\\x1b[31m|</td>" in text
    assert clean("a\x07b\x9bc") == "a\\x07b\\x9bc"


def test_empty_scan(empty_ctx: ReportContext) -> None:
    text = render("table", empty_ctx)
    assert "No open findings." in text and "Errors" not in text and "Compliance" not in text


def test_area_counts_and_compliance_scores_line_up(full_ctx: ReportContext) -> None:
    lines = render("table", full_ctx).split("\nSummary\n", 1)[1].splitlines()
    start = lines.index("  by area:") + 1
    areas = [re.fullmatch(r"    (\S.*?)  +(\d+ failed, .*)", line) for line in lines[start:]]
    rows = [m for m in areas[: areas.index(None)] if m is not None]
    assert len(rows) > 3
    # Every area's counts start in one column, two spaces after the longest area title.
    assert {m.start(2) for m in rows} == {4 + max(len(m[1]) for m in rows) + 2}
    compliance = lines[lines.index("Compliance") + 1 :]
    assert [line.split("  ")[1] for line in compliance] == [
        "CIS Kubernetes Benchmark v1.10",
        "NSA/CISA Kubernetes Hardening Guidance v1.2",
    ]
    # Scores right-aligned: each ends where the widest one ends.
    assert len({line.index("%") for line in compliance}) == 1
    assert all(re.search(r"\d%  controls: \d+ passing", line) for line in compliance)
