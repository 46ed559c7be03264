"""``stockade paths`` output: ranked paths, blast radius, reachers and the remediation set.

Formats: ``table`` (text for people), ``json``, ``dot`` (Graphviz) and ``mermaid`` (a flowchart
for a README or a pull-request comment). The graph formats draw the listed paths only. Every name
comes from the user's objects, so text output shows control characters as escapes and the graph
formats quote and escape labels for their own syntax.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from stockade.model.finding import Finding, Status
from stockade.model.text import visible
from stockade.paths import Analysis, AttackPath, BlastRadius, Edge, Fix, Reachers, Remediation
from stockade.paths.risk import Risk
from stockade.report._text import json_text

FORMATS = ("table", "json", "dot", "mermaid")


# -- data ------------------------------------------------------------------------------------------
def fix_data(fix: Fix) -> dict[str, str]:
    return {
        "rule": fix.rule_id,
        "resource": fix.resource,
        "path": fix.path,
        "fingerprint": fix.fingerprint,
        "status": fix.status,
    }


def edge_data(edge: Edge) -> dict[str, Any]:
    info = edge.info
    return {
        "from": edge.source,
        "to": edge.target,
        "attack": edge.attack.value,
        "name": info.name,
        "technique": info.technique,
        "likelihood": info.likelihood,
        "how": edge.how,
        "fixes": [fix_data(f) for f in edge.fixes],
    }


def path_data(path: AttackPath) -> dict[str, Any]:
    return {
        "from": path.start,
        "to": path.goal,
        "steps": path.steps,
        "likelihood": round(path.likelihood, 6),
        "nodes": list(path.nodes),
        "edges": [edge_data(e) for e in path.edges],
    }


def remediation_data(remediation: Remediation) -> dict[str, Any]:
    return {
        "method": remediation.method,
        "pairs_before": remediation.pairs_before,
        "pairs_after": remediation.pairs_after,
        "cut_percent": round(100 * remediation.cut_share, 1),
        "fixes": [
            {**fix_data(fix), "pairs_left": left}
            for fix, left in zip(remediation.fixes, remediation.remaining_after, strict=True)
        ],
    }


def analysis_data(analysis: Analysis, limit: int, max_fixes: int) -> dict[str, Any]:
    graph = analysis.graph
    paths = analysis.paths
    return {
        "graph": {
            "nodes": len(graph.nodes),
            "edges": len(graph.edges),
            "entry_points": [n.key for n in graph.entries],
            "crown_jewels": [{"key": n.key, "why": n.jewel} for n in graph.jewels],
        },
        "pairs": len(analysis.pairs),
        "paths": [path_data(p) for p in paths[:limit]],
        "paths_not_listed": max(len(paths) - limit, 0),
        "paths_longer_than_max_steps": analysis.longer,
        "max_steps": analysis.max_steps,
        "remediation": remediation_data(analysis.remediation(max_fixes)),
        "risk": risk_data(analysis),
        "notes": list(graph.notes),
    }


def risk_data(analysis: Analysis) -> list[dict[str, Any]]:
    fixes = {f.key: f for f in analysis.graph.fixes()}
    ranked = sorted(analysis.risk.items(), key=lambda item: (-item[1], item[0]))
    return [{**fix_data(fixes[key]), "paths": count} for key, count in ranked]


# -- text ------------------------------------------------------------------------------------------
def _lines(lines: Iterable[str]) -> str:
    return "\n".join(visible(line) for line in lines) + "\n"


def _path_lines(number: int, path: AttackPath) -> list[str]:
    lines = [f"{number}. {path.start} → {path.goal}  ({_count(path.steps, 'step')}, likelihood {path.likelihood:.2f})"]
    for edge in path.edges:
        if edge.structural:
            continue  # bookkeeping steps (scope, membership) are implied by the next line
        fixes = "; ".join(str(f) for f in edge.fixes) or "no finding: structural"
        lines.append(f"     {edge.source} ─{edge.info.name} [{edge.info.technique}]→ {edge.target}")
        lines.append(f"       how: {edge.how}")
        lines.append(f"       fix: {fixes}")
    return lines


def remediation_lines(remediation: Remediation) -> list[str]:
    if not remediation.pairs_before:
        return ["No entry point reaches a crown jewel: nothing to cut."]
    if not remediation.fixes:
        return ["No finding lies on these paths: they are structural (fix the exposure or the grant itself)."]
    before, after = remediation.pairs_before, remediation.pairs_after
    count = len(remediation.fixes)
    lines = [
        f"Fix {'this' if count == 1 else f'these {count}'} to cut {100 * remediation.cut_share:.0f}% of paths "
        f"({before - after} of {before} entry-to-jewel pairs):"
    ]
    for number, (fix, left) in enumerate(zip(remediation.fixes, remediation.remaining_after, strict=True), 1):
        fingerprint = f"  [{fix.fingerprint[:12]}]" if fix.fingerprint else ""
        lines.append(f"  {number}. {fix}{fingerprint}  → {_count(left, 'pair')} left")
    lines.append(f"Method: {remediation.method}")
    return lines


def render_analysis(analysis: Analysis, fmt: str, limit: int = 20, max_fixes: int = 10) -> str:
    if fmt == "json":
        return json_text(analysis_data(analysis, limit, max_fixes))
    paths = analysis.paths
    if fmt in ("dot", "mermaid"):
        return render_graph(paths[:limit], fmt)
    graph = analysis.graph
    lines = [
        f"Attack graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {len(graph.entries)} entry points, "
        f"{len(graph.jewels)} crown jewels.",
        f"{len(analysis.pairs)} entry-to-jewel pairs connected; best path of each, fewest steps first:",
        "",
    ]
    for number, path in enumerate(paths[:limit], 1):
        lines += _path_lines(number, path)
    if len(paths) > limit:
        lines.append(f"… and {len(paths) - limit} more (--limit).")
    if analysis.longer:
        lines.append(f"{analysis.longer} pairs connect only in more than {analysis.max_steps} steps (--max-steps).")
    lines.append("")
    lines += remediation_lines(analysis.remediation(max_fixes))
    lines += [f"note: {n}" for n in graph.notes]
    return _lines(lines)


def render_risk_ranking(findings: Sequence[Finding], scores: dict[str, Risk], limit: int = 20) -> str:
    """The open findings with the highest risk, for the top of a table report."""
    ranked = [f for f in findings if f.status is Status.FAIL][:limit]
    if not ranked:
        return ""
    lines = ["Findings ranked by attack-path risk (severity, raised for each path from an entry point):"]
    for finding in ranked:
        risk = scores[finding.fingerprint]
        on = f", on {_count(risk.paths, 'path')}" if risk.paths else ""
        lines.append(f"  {risk.score:>4}  {finding.rule_id} {finding.resource.display}  ({finding.severity}{on})")
    return _lines([*lines, ""])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render_blast_radius(blast: BlastRadius, fmt: str, limit: int = 20) -> str:
    if fmt == "json":
        return json_text(
            {
                "from": blast.start,
                "reaches": {kind.value: count for kind, count in sorted(blast.reached.items())},
                "paths": [path_data(p) for p in blast.paths[:limit]],
            }
        )
    if fmt in ("dot", "mermaid"):
        return render_graph(blast.paths[:limit], fmt)
    counts = ", ".join(f"{count} {kind.value}" for kind, count in sorted(blast.reached.items())) or "nothing"
    lines = [f"From {blast.start} an attacker reaches: {counts}."]
    if blast.paths:
        lines.append("Crown jewels within reach:")
        for number, path in enumerate(blast.paths[:limit], 1):
            lines += _path_lines(number, path)
    else:
        lines.append("No crown jewel is within reach.")
    return _lines(lines)


def render_reachers(reachers: Reachers, fmt: str, limit: int = 20) -> str:
    if fmt == "json":
        return json_text({"to": reachers.goal, "paths": [path_data(p) for p in reachers.paths[:limit]]})
    if fmt in ("dot", "mermaid"):
        return render_graph(reachers.paths[:limit], fmt)
    if not reachers.paths:
        return _lines([f"Nothing reaches {reachers.goal}."])
    lines = [f"{len(reachers.paths)} entry points, identities and workloads reach {reachers.goal}:"]
    for number, path in enumerate(reachers.paths[:limit], 1):
        lines += _path_lines(number, path)
    if len(reachers.paths) > limit:
        lines.append(f"… and {len(reachers.paths) - limit} more (--limit).")
    return _lines(lines)


# -- graph formats ---------------------------------------------------------------------------------
def _dot_quote(text: str) -> str:
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mermaid_label(text: str) -> str:
    escaped = visible(text)
    for raw, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        escaped = escaped.replace(raw, entity)
    return f'"{escaped}"'


def render_graph(paths: Sequence[AttackPath], fmt: str) -> str:
    """The union of ``paths`` as a Graphviz digraph or a Mermaid flowchart."""
    nodes: dict[str, int] = {}
    edges: dict[tuple[str, str, str], None] = {}
    for path in paths:
        for key in path.nodes:
            nodes.setdefault(key, len(nodes))
        for edge in path.edges:
            edges.setdefault((edge.source, edge.target, edge.info.name), None)
    starts = {p.start for p in paths}
    goals = {p.goal for p in paths}
    if fmt == "dot":
        lines = ["digraph attack_paths {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
        for key, number in nodes.items():
            style = ', style=filled, fillcolor="#fde2e2"' if key in goals else ""
            style = ', style=filled, fillcolor="#e2ecfd"' if key in starts and not style else style
            lines.append(f"  n{number} [label={_dot_quote(key)}{style}];")
        for source, target, name in edges:
            lines.append(f"  n{nodes[source]} -> n{nodes[target]} [label={_dot_quote(name)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"
    lines = ["flowchart LR"]
    for key, number in nodes.items():
        lines.append(f"  n{number}[{_mermaid_label(key)}]")
    for source, target, name in edges:
        lines.append(f"  n{nodes[source]} -->|{_mermaid_label(name)}| n{nodes[target]}")
    for key in sorted(goals):
        lines.append(f"  style n{nodes[key]} fill:#fde2e2")
    return "\n".join(lines) + "\n"
