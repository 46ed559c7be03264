"""``stockade posture`` output: the scorecard as a table, markdown or JSON."""

from __future__ import annotations

import orjson

from stockade.model.text import visible
from stockade.posture import Met, Scorecard

MARK = {Met.MET: "✓", Met.NOT_MET: "✗", Met.NOT_ASSESSED: "?"}


def render_posture(card: Scorecard, fmt: str, detail: bool) -> str:
    if fmt == "json":
        return orjson.dumps(card.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
    lines: list[str] = []
    if fmt == "markdown":
        lines += ["# Posture: crawl / walk / run", "", "| Area | Stage reached | Next step |", "|---|---|---|"]
        lines += posture_markdown_rows(card)
        lines.append("")
    else:
        width = max(len(a.area.label) for a in card.areas)
        for area in card.areas:
            lines.append(f"{area.area.label:<{width}}  {area.summary:<26}  {area.next_step}")
    if detail:
        for area in card.areas:
            lines.append("")
            lines.append(f"{'## ' if fmt == 'markdown' else ''}{area.area.label}")
            for stage in area.stages:
                lines.append(f"  {stage.stage.value}: {stage.met.value}")
                for result in stage.criteria:
                    lines.append(
                        f"    {MARK[result.met]} {result.criterion.text} ({result.criterion.guide}): {result.evidence}"
                    )
                    for finding in result.blockers[:5]:
                        lines.append(f"        blocks: {finding.rule_id} {finding.resource.display}: {finding.message}")
                    if len(result.blockers) > 5:
                        lines.append(f"        … and {len(result.blockers) - 5} more")
    return "".join(visible(line) + "\n" for line in lines)


def posture_markdown_rows(card: Scorecard) -> list[str]:
    return [f"| {_cell(a.area.label)} | {_cell(a.summary)} | {_cell(a.next_step)} |" for a in card.areas]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
