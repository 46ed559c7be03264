"""Properties every format shares."""

from __future__ import annotations

import pytest

from stockade.report import FORMATS, ReportContext, render


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_result_renders(fmt: str, empty_ctx: ReportContext) -> None:
    text = render(fmt, empty_ctx)
    assert text.endswith("\n") and len(text) > 50


@pytest.mark.parametrize("fmt", FORMATS)
def test_secret_values_never_appear(fmt: str, full_ctx: ReportContext, passed_ctx: ReportContext) -> None:
    # the Deployment writes DB_PASSWORD as a literal value; findings name it, never repeat it
    assert "DB_PASSWORD" in render("json", full_ctx)
    for ctx in (full_ctx, passed_ctx):
        assert "hunter2" not in render(fmt, ctx)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_failing_rule_is_mentioned(fmt: str, full_ctx: ReportContext) -> None:
    text = render(fmt, full_ctx)
    for rule_id in {f.rule_id for f in full_ctx.result.failed}:
        assert rule_id in text, (fmt, rule_id)


def test_unknown_format(full_ctx: ReportContext) -> None:
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render("pdf", full_ctx)
