"""Report formats. Each module renders a :class:`ReportContext` to text; none of them reads files.

``render(fmt, ctx)`` imports only the module of the format asked for, so a table report never pays
for the SARIF or HTML code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockade.model.compliance import ComplianceSummary
from stockade.model.result import ScanResult

if TYPE_CHECKING:
    from stockade.paths import Analysis
    from stockade.posture import Scorecard

FORMATS = ("table", "json", "sarif", "junit", "markdown", "html", "policyreport")


@dataclass(frozen=True, slots=True)
class ReportContext:
    result: ScanResult
    compliance: tuple[ComplianceSummary, ...] = ()
    tool_version: str = ""
    generated_at: str = ""  # ISO 8601 UTC
    color: bool = False
    targets: tuple[str, ...] = field(default=())  # what was scanned, as the user named it
    fail_on: str = "high"
    paths: Analysis | None = None  # the attack graph, when asked for (scan --rank-by-risk)
    posture: Scorecard | None = None  # the crawl / walk / run scorecard, when asked for (scan --posture)


def render(fmt: str, ctx: ReportContext) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    module = importlib.import_module(f"stockade.report.{fmt}_report")
    text: str = module.render(ctx)
    return text
