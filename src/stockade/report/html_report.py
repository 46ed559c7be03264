"""One self-contained HTML file: no network, no external fonts, styles or scripts.

Charts are inline SVG; the findings table is rendered on the server (readable without JavaScript) and
filtered in the browser by a small inline script that reads its data from a JSON block. Everything that
comes from a manifest is escaped with ``html.escape``; the JSON block escapes ``<``, ``>`` and ``&`` so
it cannot close its ``<script>`` element. A Content-Security-Policy allows only this file's own style
and script (by hash), so even a missed escape could not run injected code or load anything.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape

import orjson

from stockade.model.compliance import ComplianceSummary
from stockade.model.finding import Finding, Severity, Status
from stockade.model.rule import RuleSpec
from stockade.model.text import visible
from stockade.report import ReportContext
from stockade.report._summary import (
    SEVERITIES,
    Summary,
    area_title,
    finding_location,
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

SEVERITY_COLOR = {
    Severity.CRITICAL: "#b91c1c",
    Severity.HIGH: "#ea580c",
    Severity.MEDIUM: "#ca8a04",
    Severity.LOW: "#2563eb",
    Severity.INFO: "#6b7280",
}
STATUS_COLOR = {"fail": "#dc2626", "pass": "#16a34a", "excepted": "#7c3aed", "error": "#111827"}
TABLE_STATUSES = (Status.FAIL, Status.ERROR, Status.EXCEPTED, Status.PASS)

STYLE = """
:root{--fg:#111827;--muted:#6b7280;--bg:#fff;--card:#f9fafb;--line:#e5e7eb;--accent:#1d4ed8}
@media (prefers-color-scheme:dark){:root{--fg:#e5e7eb;--muted:#9ca3af;--bg:#0b0f17;--card:#111827;
--line:#1f2937;--accent:#93c5fd}}
*{box-sizing:border-box}
body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1280px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 12px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.muted{color:var(--muted)}
.banner{border:2px solid #dc2626;background:rgba(220,38,38,.08);padding:12px 16px;border-radius:8px;margin:16px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:22px}
.charts{display:flex;flex-wrap:wrap;gap:24px}
.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}
.chart svg text{fill:var(--fg);font-size:12px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--card);position:sticky;top:0}
td.num,th.num{text-align:right}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.sev-critical{background:#b91c1c}.sev-high{background:#ea580c}.sev-medium{background:#ca8a04}
.sev-low{background:#2563eb}.sev-info{background:#6b7280}
.st-fail{color:#dc2626;font-weight:600}.st-error{font-weight:600}.st-excepted{color:#7c3aed}
.st-pass{color:#16a34a}.expired{color:#b45309;font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 12px}
.filters input,.filters select{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;
background:var(--bg);color:var(--fg)}
.filters input{min-width:280px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px;overflow:auto;
white-space:pre-wrap;word-break:break-all}
details{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0}
summary{cursor:pointer}
.small{font-size:12px}
footer{margin-top:40px}
"""

SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("stockade-data").textContent);
  var rows = document.querySelectorAll("#findings tbody tr");
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var status = document.getElementById("filter-status");
  var shown = document.getElementById("filter-count");
  function apply() {
    var q = text.value.trim().toLowerCase(), s = severity.value, t = status.value, n = 0;
    for (var i = 0; i < data.rows.length; i++) {
      var row = data.rows[i];
      var ok = (!s || row.s === s) && (!t || row.t === t) && (!q || row.x.indexOf(q) !== -1);
      rows[i].hidden = !ok;
      if (ok) { n++; }
    }
    shown.textContent = String(n);
  }
  function openTarget() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  text.addEventListener("input", apply);
  severity.addEventListener("change", apply);
  status.addEventListener("change", apply);
  apply();
})();
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = (
    "default-src 'none'; "
    f"style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
_CODE = re.compile(r"`([^`]+)`")


def e(text: object) -> str:
    """Escaped for HTML, with control, bidirectional and zero-width characters (line breaks too)
    shown as escapes: text from inputs cannot hide, reorder or forge what is around it."""
    return escape(visible(str(text)), quote=True)


def pre(text: str) -> str:
    """Like :func:`e` for a ``<pre>`` block, whose line breaks are kept."""
    return "\n".join(e(line) for line in text.split("\n"))


def prose(text: str) -> str:
    """Stockade's own rule prose: escaped, paragraphs kept, `code` spans shown as code."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join("<p>" + _CODE.sub(r"<code>\1</code>", e(" ".join(p.split()))) + "</p>" for p in paragraphs)


def json_for_script(data: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = orjson.dumps(data).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(ctx: ReportContext) -> str:
    result = ctx.result
    rules = rules_by_id(result)
    summary = summarize(result, ctx.fail_on)
    listed = [f for f in result.findings if f.status in TABLE_STATUSES]
    title = "Stockade scan report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body><main>",
        f"<h1>{e(title)}</h1>",
        _header(ctx),
        _banner(ctx),
        _cards(summary, ctx.fail_on),
        _charts(summary),
        _findings(listed, rules),
        _remediation(with_status(result.findings, Status.FAIL, Status.ERROR), rules),
        _attack_paths(ctx),
        _posture(ctx),
        _errors(ctx),
        _skipped(ctx),
        _stale(ctx),
        _compliance(ctx.compliance),
        _footer(ctx),
        f'<script type="application/json" id="stockade-data">{json_for_script(_filter_data(listed, rules))}</script>',
        f"<script>{SCRIPT}</script>",
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _header(ctx: ReportContext) -> str:
    targets = ", ".join(f"<code>{e(t)}</code>" for t in ctx.targets) or "—"
    generated = f" · generated {e(ctx.generated_at)}" if ctx.generated_at else ""
    return f'<p class="muted">Targets: {targets}{generated}</p>'


def _banner(ctx: ReportContext) -> str:
    unreadable = len(ctx.result.errors)
    unevaluated = len(with_status(ctx.result.findings, Status.ERROR))
    if not unreadable and not unevaluated:
        return ""
    what = []
    if unreadable:
        what.append(f"{plural(unreadable, 'input')} could not be read")
    if unevaluated:
        what.append(f"{plural(unevaluated, 'check')} could not be evaluated")
    return (
        f'<div class="banner" role="alert"><b>{e(" and ".join(what))}</b>: the results are incomplete. '
        'See <a href="#errors">Errors</a>.</div>'
    )


def _cards(summary: Summary, fail_on: str) -> str:
    cards = [
        ("Open findings", summary.failed),
        ("Passed checks", summary.passed),
        ("Excepted", summary.excepted),
        ("Errors", summary.errors),
        ("Resources scanned", summary.resources_scanned),
    ]
    if fail_on != "none":
        cards.append((f"At or above {fail_on}", summary.blocking))
    if summary.expired_exceptions:
        cards.append(("Re-opened (expired exception)", summary.expired_exceptions))
    body = "".join(
        f'<div class="card"><b>{count}</b><span class="muted">{e(label)}</span></div>' for label, count in cards
    )
    return f'<section class="cards">{body}</section>'


# -- charts --------------------------------------------------------------------------------------


def _bars(title: str, rows: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars: (label, value, colour)."""
    top = max((value for _, value, _ in rows), default=0) or 1
    height = 24 * len(rows) + 8
    label_width, bar_width = 150, 180
    body = []
    for index, (label, value, color) in enumerate(rows):
        y = 4 + index * 24
        width = round(bar_width * value / top, 1)
        body.append(
            f'<text x="0" y="{y + 14}">{e(label)}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{width}" height="16" rx="3" fill="{color}"></rect>'
            f'<text x="{label_width + width + 6}" y="{y + 14}">{value}</text>'
        )
    svg = (
        f'<svg role="img" aria-label="{e(title)}" width="{label_width + bar_width + 50}" height="{height}" '
        f'viewBox="0 0 {label_width + bar_width + 50} {height}">{"".join(body)}</svg>'
    )
    return f'<div class="chart"><h3>{e(title)}</h3>{svg}</div>'


def _donut(title: str, parts: Sequence[tuple[str, int, str]]) -> str:
    """A ring in which each part's arc is proportional to its value, with a legend beside it."""
    total = sum(value for _, value, _ in parts)
    radius, width, center = 50.0, 18, 70
    circumference = 2 * math.pi * radius
    arcs = []
    offset = circumference / 4  # start at twelve o'clock
    for _, value, color in parts:
        if not value:
            continue
        length = circumference * value / total
        arcs.append(
            f'<circle cx="{center}" cy="{center}" r="{radius}" fill="none" stroke="{color}" '
            f'stroke-width="{width}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{offset:.2f}"></circle>'
        )
        offset -= length
    if not arcs:
        arcs.append(
            f'<circle cx="{center}" cy="{center}" r="{radius}" fill="none" stroke="#9ca3af" '
            f'stroke-width="{width}"></circle>'
        )
    legend = "".join(
        f'<rect x="160" y="{30 + i * 22}" width="12" height="12" rx="2" fill="{color}"></rect>'
        f'<text x="180" y="{40 + i * 22}">{e(label)} {value}</text>'
        for i, (label, value, color) in enumerate(parts)
    )
    svg = (
        f'<svg role="img" aria-label="{e(title)}" width="300" height="140" viewBox="0 0 300 140">'
        f'{"".join(arcs)}<text x="{center}" y="{center + 5}" text-anchor="middle">{total}</text>{legend}</svg>'
    )
    return f'<div class="chart"><h3>{e(title)}</h3>{svg}</div>'


def _charts(summary: Summary) -> str:
    severity = _bars(
        "Open findings by severity",
        [(s.value, summary.by_severity[s], SEVERITY_COLOR[s]) for s in SEVERITIES],
    )
    status = _donut(
        "Results by status",
        [
            ("fail", summary.failed, STATUS_COLOR["fail"]),
            ("pass", summary.passed, STATUS_COLOR["pass"]),
            ("excepted", summary.excepted, STATUS_COLOR["excepted"]),
            ("error", summary.errors, STATUS_COLOR["error"]),
        ],
    )
    area = _bars(
        "Open findings by area",
        [(area_title(a), c.failed, "#dc2626" if c.failed else "#16a34a") for a, c in summary.by_area.items()],
    )
    return f'<section class="charts">{severity}{status}{area}</section>'


# -- findings ------------------------------------------------------------------------------------


def _search_text(finding: Finding, rule: RuleSpec | None) -> str:
    words = [
        finding.rule_id,
        rule.name if rule else "",
        rule.title if rule else "",
        finding.resource.display,
        finding.container or "",
        finding_location(finding),
        finding.path,
        finding.message,
    ]
    return visible(" ".join(words).lower())


def _filter_data(listed: Iterable[Finding], rules: Mapping[str, RuleSpec]) -> dict[str, object]:
    return {
        "rows": [
            {"s": f.severity.value, "t": f.status.value, "x": _search_text(f, rules.get(f.rule_id))} for f in listed
        ]
    }


def _findings(listed: Sequence[Finding], rules: Mapping[str, RuleSpec]) -> str:
    severity_options = "".join(f'<option value="{s.value}">{s.value}</option>' for s in SEVERITIES)
    status_options = "".join(f'<option value="{s.value}">{s.value}</option>' for s in TABLE_STATUSES)
    rows = []
    for finding in listed:
        rule = rules.get(finding.rule_id)
        title = f'<br><span class="small muted">{e(rule.title)}</span>' if rule else ""
        note = ""
        if finding.waiver is not None:
            css = "expired" if finding.waiver.expired else "muted"
            note = f'<br><span class="small {css}">{e(waiver_text(finding.waiver))}</span>'
        rows.append(
            "<tr>"
            f'<td><span class="sev sev-{finding.severity.value}">{finding.severity.value}</span></td>'
            f'<td class="st-{finding.status.value}">{finding.status.value}</td>'
            f'<td><a href="#rule-{e(finding.rule_id)}">{e(finding.rule_id)}</a>{title}</td>'
            f"<td>{e(finding.resource.display)}</td>"
            f"<td>{e(finding.container or '')}</td>"
            f"<td><code>{e(finding_location(finding))}</code></td>"
            f"<td>{e(finding.message)}{note}</td>"
            "</tr>"
        )
    body = "".join(rows) or '<tr><td colspan="7">No findings.</td></tr>'
    return (
        '<section><h2 id="findings-title">Findings</h2>'
        '<div class="filters">'
        '<input id="filter-text" type="search" placeholder="Filter by rule, resource, file, message…" '
        'aria-label="Filter findings">'
        f'<select id="filter-severity" aria-label="Severity"><option value="">any severity</option>{severity_options}'
        "</select>"
        f'<select id="filter-status" aria-label="Status"><option value="">any status</option>{status_options}</select>'
        f'<span class="muted"><span id="filter-count">{len(listed)}</span> of {len(listed)} shown</span>'
        "</div>"
        '<table id="findings"><thead><tr><th>Severity</th><th>Status</th><th>Rule</th><th>Resource</th>'
        f"<th>Container</th><th>Location</th><th>Message</th></tr></thead><tbody>{body}</tbody></table></section>"
    )


def _remediation(findings: Sequence[Finding], rules: Mapping[str, RuleSpec]) -> str:
    groups = group_by_rule(findings)
    if not groups:
        return ""
    sections = []
    for rule_id, group in sorted(groups.items()):
        rule = rules.get(rule_id)
        head = f'{e(rule_id)} {e(rule.title) if rule else ""} <span class="muted">({len(group)})</span>'
        body = []
        if rule is not None:
            frameworks = "; ".join(f"{fid} {', '.join(ids)}" for fid, ids in sorted(rule.frameworks.items()))
            body += [
                f'<p class="muted">{e(rule.name)} · {rule.severity.value} · {e(area_title(rule.area))} · '
                f"{rule.stage.value} · {e(frameworks)}</p>",
                prose(rule.doc.why),
                "<h3>Remediation</h3>",
                prose(rule.doc.remediation),
                f"<details><summary>Example and fix</summary><pre><code>{pre(rule.doc.example)}</code></pre>"
                f"<p>Use instead:</p><pre><code>{pre(rule.doc.use_instead)}</code></pre></details>",
            ]
        fixes = [f for f in group if f.remediation and (rule is None or f.remediation != rule.remediation)]
        if fixes:
            body.append("<h3>Fixes for these objects</h3>")
            body += [
                f"<p><b>{e(f.resource.display)}</b>"
                + (f" container {e(f.container)}" if f.container else "")
                + f"</p><pre><code>{e(f.remediation)}</code></pre>"
                for f in fixes
            ]
        sections.append(f'<details id="rule-{e(rule_id)}"><summary>{head}</summary>{"".join(body)}</details>')
    return f"<section><h2>How to fix, rule by rule</h2>{''.join(sections)}</section>"


# -- other sections ------------------------------------------------------------------------------


def _posture(ctx: ReportContext) -> str:
    """The crawl / walk / run scorecard (scan --posture)."""
    if ctx.posture is None:
        return ""
    rows = "".join(
        f"<tr><td>{e(a.area.label)}</td><td>{e(a.summary)}</td><td>{e(a.next_step)}</td></tr>"
        for a in ctx.posture.areas
    )
    return (
        '<section id="posture"><h2>Posture: crawl / walk / run</h2>'
        f"<table><thead><tr><th>Area</th><th>Stage reached</th><th>Next step</th></tr></thead><tbody>{rows}</tbody>"
        "</table></section>"
    )


def _attack_paths(ctx: ReportContext, limit: int = 10) -> str:
    """The ranked attack paths and the fixes that cut them (scan --rank-by-risk)."""
    analysis = ctx.paths
    if analysis is None:
        return ""
    from stockade.report.paths import remediation_lines

    paths = analysis.paths
    items = []
    for path in paths[:limit]:
        steps = "".join(
            f'<li>{e(edge.info.name)} <span class="muted">[{e(edge.info.technique)}]</span> → '
            f'<code>{e(edge.target)}</code><br><span class="muted">{e(edge.how)}</span>'
            + (f"<br>fix: {e('; '.join(str(f) for f in edge.fixes))}" if edge.fixes else "")
            + "</li>"
            for edge in path.edges
            if not edge.structural
        )
        items.append(
            f"<li><code>{e(path.start)}</code> → <code>{e(path.goal)}</code> "
            f"({path.steps} steps, likelihood {path.likelihood:.2f})<ol>{steps}</ol></li>"
        )
    more = f"<p>… and {len(paths) - limit} more (<code>stockade paths</code>).</p>" if len(paths) > limit else ""
    lines = remediation_lines(analysis.remediation())
    if len(lines) > 1:
        fixes = "".join(f"<li>{e(line.strip())}</li>" for line in lines[1:-1])
        cut = f'<h3>{e(lines[0])}</h3><ol>{fixes}</ol><p class="muted">{e(lines[-1])}</p>'
    else:
        cut = f"<p>{e(lines[0])}</p>"
    return (
        '<section><h2 id="attack-paths">Attack paths</h2>'
        f"<p>{len(analysis.pairs)} entry-to-jewel pairs connected; the best path of each, fewest steps first.</p>"
        f"<ol>{''.join(items)}</ol>{more}{cut}</section>"
    )


def _errors(ctx: ReportContext) -> str:
    errors = ctx.result.errors
    unevaluated = with_status(ctx.result.findings, Status.ERROR)
    if not errors and not unevaluated:
        return ""
    rows = "".join(
        f"<tr><td><code>{e(location_text(err.source, err.line))}</code></td><td>{e(err.object or '')}</td>"
        f"<td>{e(err.kind)}</td><td>{e(err.message)}</td></tr>"
        for err in errors
    )
    rows += "".join(
        f"<tr><td><code>{e(finding_location(f))}</code></td><td>{e(f.resource.display)}</td>"
        f"<td>evaluate ({e(f.rule_id)})</td><td>{e(f.message)}</td></tr>"
        for f in unevaluated
    )
    return (
        '<section><h2 id="errors">Errors</h2><p>These inputs were not fully checked.</p>'
        "<table><thead><tr><th>Source</th><th>Object</th><th>Kind</th><th>Message</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _skipped(ctx: ReportContext) -> str:
    result = ctx.result
    parts = []
    if result.skipped_inputs:
        items = "".join(
            f"<li><code>{e(location_text(s.source, s.line))}</code>: {e(s.reason)}</li>" for s in result.skipped_inputs
        )
        parts.append(
            f"<details><summary>{plural(len(result.skipped_inputs), 'skipped input')} (nothing to scan)</summary>"
            f"<ul>{items}</ul></details>"
        )
    if result.skipped_rules:
        items = "".join(f"<li><b>{e(rid)}</b>: {e(why)}</li>" for rid, why in sorted(result.skipped_rules.items()))
        parts.append(f"<h3>Skipped rules</h3><ul>{items}</ul>")
    if result.notices:
        parts.append("<h3>Notices</h3><ul>" + "".join(f"<li>{e(n)}</li>" for n in result.notices) + "</ul>")
    excepted = with_status(result.findings, Status.EXCEPTED)
    if excepted:
        items = "".join(
            f"<li><b>{e(f.rule_id)}</b> {e(f.resource.display)}: {e(waiver_text(f.waiver))}</li>"
            for f in excepted
            if f.waiver is not None
        )
        parts.append(f"<h3>Excepted findings</h3><ul>{items}</ul>")
    if not parts:
        return ""
    return f"<section><h2>Skipped, notices and exceptions</h2>{''.join(parts)}</section>"


def _stale(ctx: ReportContext) -> str:
    stale = ctx.result.stale_exceptions
    if not stale:
        return ""
    items = "".join(f"<li>{e(stale_text(entry))}</li>" for entry in stale)
    return (
        "<section><h2>Stale exceptions</h2><p>These matched nothing: remove them or fix them.</p>"
        f"<ul>{items}</ul></section>"
    )


def _compliance(compliance: Sequence[ComplianceSummary]) -> str:
    if not compliance:
        return ""
    parts = ["<section><h2>Compliance</h2>"]
    for item in compliance:
        evaluated = [c for c in item.controls if c.status != "not-evaluated"]
        idle = [c for c in item.controls if c.status == "not-evaluated"]
        rows = "".join(
            f'<tr><td>{e(c.control_id)}</td><td>{e(c.title)}</td><td class="st-{e(c.status)}">{e(c.status)}</td>'
            f'<td class="num">{c.passed}</td><td class="num">{c.failed}</td><td class="num">{c.excepted}</td>'
            f'<td class="num">{c.errors}</td><td>{e(", ".join(c.rules))}</td></tr>'
            for c in evaluated
        )
        parts.append(
            f"<h3>{e(item.framework.title)} — {percent(item.score)}</h3>"
            f'<p class="muted">{item.controls_passing} controls passing, {item.controls_failing} failing, '
            f"{len(idle)} not evaluated by the selected rules</p>"
            '<table><thead><tr><th>Control</th><th>Title</th><th>Status</th><th class="num">Passed</th>'
            '<th class="num">Failed</th><th class="num">Excepted</th><th class="num">Errors</th><th>Rules</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        if idle:
            items = "".join(f"<li>{e(c.control_id)} {e(c.title)}</li>" for c in idle)
            parts.append(f"<details><summary>{len(idle)} controls not evaluated</summary><ul>{items}</ul></details>")
    parts.append("</section>")
    return "".join(parts)


def _footer(ctx: ReportContext) -> str:
    version = f" {e(ctx.tool_version)}" if ctx.tool_version else ""
    return f'<footer class="muted small">Stockade{version} · {e(ctx.fail_on)} fail-on threshold</footer>'
