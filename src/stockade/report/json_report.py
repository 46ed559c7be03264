"""JSON report, schema ``stockade.findings/v1`` (documented in ``stockade/schemas/findings-v1.schema.json``).

The layout is a contract: fields are added, never renamed or removed, within v1. Passing checks are
counted in ``summary``; pass findings appear in ``findings`` only when the scan kept them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from stockade.model.compliance import ComplianceSummary
from stockade.model.finding import Finding, InputProblem, SkippedInput
from stockade.model.rule import RuleSpec
from stockade.model.waiver import WaiverEntry
from stockade.report import ReportContext
from stockade.report._summary import SEVERITIES, STATUSES, Summary, rules_by_id, summarize

SCHEMA = "stockade.findings/v1"
SCHEMA_RESOURCE = "schemas/findings-v1.schema.json"  # inside the stockade package


def render(ctx: ReportContext) -> str:
    # Compact: a 10,000-object scan writes tens of megabytes; `jq .` is there for reading it.
    return orjson.dumps(document(ctx)).decode() + "\n"


def document(ctx: ReportContext) -> dict[str, Any]:
    """The report as plain data (what ``render`` serialises)."""
    result = ctx.result
    rules = rules_by_id(result)
    return {
        "schema": SCHEMA,
        "tool": {"name": "stockade", "version": ctx.tool_version},
        "generated_at": ctx.generated_at,
        "targets": list(ctx.targets),
        "fail_on": ctx.fail_on,
        "summary": _summary(summarize(result, ctx.fail_on)),
        "findings": _findings(result.findings, rules),
        "errors": [_error(e) for e in result.errors],
        "skipped_inputs": [_skipped(s) for s in result.skipped_inputs],
        "skipped_rules": [{"id": rid, "reason": why} for rid, why in sorted(result.skipped_rules.items())],
        "stale_exceptions": [_stale(e) for e in result.stale_exceptions],
        "notices": list(result.notices),
        "compliance": [_compliance(c) for c in ctx.compliance],
        **_attack_paths(ctx),
        **({"posture": ctx.posture.to_json()} if ctx.posture is not None else {}),
    }


def _attack_paths(ctx: ReportContext) -> dict[str, Any]:
    if ctx.paths is None:
        return {}
    from stockade.report.paths import analysis_data

    return {"attack_paths": analysis_data(ctx.paths, limit=20, max_fixes=10)}


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "by_severity": {s.value: summary.by_severity[s] for s in SEVERITIES},
        "by_status": {s.value: summary.by_status[s] for s in STATUSES},
        "by_area": {
            area: {"fail": c.failed, "excepted": c.excepted, "error": c.errors, "pass": c.passed}
            for area, c in summary.by_area.items()
        },
        "resources_scanned": summary.resources_scanned,
        "passed": summary.passed,
        "failed": summary.failed,
        "excepted": summary.excepted,
        "errors": summary.errors,
        "blocking": summary.blocking,
    }


def _rule(finding: Finding, rule: RuleSpec | None) -> dict[str, Any]:
    if rule is None:  # a finding from a rule that was not passed in: keep what the finding knows
        return {
            "id": finding.rule_id,
            "name": finding.rule_id.lower(),
            "title": finding.rule_id,
            "severity": finding.severity.value,
            "area": "unknown",
            "stage": None,
            "frameworks": {},
        }
    return {
        "id": rule.id,
        "name": rule.name,
        "title": rule.title,
        "severity": finding.severity.value,
        "area": rule.area,
        "stage": rule.stage.value,
        "frameworks": _frameworks(rule.frameworks),
    }


def _frameworks(frameworks: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {fid: list(ids) for fid, ids in sorted(frameworks.items())}


def _findings(findings: list[Finding], rules: Mapping[str, RuleSpec]) -> list[dict[str, Any]]:
    # The rule block repeats for every finding of a rule: build it once per (rule, severity).
    rule_blocks: dict[tuple[str, str], dict[str, Any]] = {}
    out = []
    for finding in findings:
        key = (finding.rule_id, finding.severity.value)
        block = rule_blocks.get(key)
        if block is None:
            block = rule_blocks[key] = _rule(finding, rules.get(finding.rule_id))
        out.append(_finding(finding, block))
    return out


def _finding(finding: Finding, rule_block: dict[str, Any]) -> dict[str, Any]:
    ref = finding.resource
    waiver = finding.waiver
    return {
        "rule": rule_block,
        "status": finding.status.value,
        "resource": {"apiVersion": ref.api_version, "kind": ref.kind, "namespace": ref.namespace, "name": ref.name},
        "container": finding.container,
        "location": {"file": finding.location.file, "line": finding.location.line or None},
        "path": finding.path,
        "message": finding.message,
        "remediation": finding.remediation,
        "fingerprint": finding.fingerprint,
        "exception": None
        if waiver is None
        else {"source": waiver.source, "reason": waiver.reason, "expires": waiver.expires, "expired": waiver.expired},
    }


def _error(error: InputProblem) -> dict[str, Any]:
    return {
        "source": error.source,
        "line": error.line or None,
        "object": error.object,
        "kind": error.kind,
        "message": error.message,
    }


def _skipped(skipped: SkippedInput) -> dict[str, Any]:
    return {"source": skipped.source, "line": skipped.line or None, "reason": skipped.reason}


def _stale(entry: WaiverEntry) -> dict[str, Any]:
    return {
        "source": entry.source,
        "rules": list(entry.rules),
        "namespace": entry.namespace,
        "kind": entry.kind,
        "name": entry.name,
        "container": entry.container,
        "reason": entry.reason,
        "owner": entry.owner,
        "expires": entry.expires.isoformat() if entry.expires else None,
    }


def _compliance(summary: ComplianceSummary) -> dict[str, Any]:
    framework = summary.framework
    return {
        "id": framework.id,
        "title": framework.title,
        "url": framework.url,
        "score": round(summary.score, 2),
        "controls_passing": summary.controls_passing,
        "controls_failing": summary.controls_failing,
        "controls": [
            {
                "id": c.control_id,
                "title": c.title,
                "status": c.status,
                "passed": c.passed,
                "failed": c.failed,
                "excepted": c.excepted,
                "errors": c.errors,
                "rules": list(c.rules),
                "skipped_rules": list(c.skipped_rules),
            }
            for c in summary.controls
        ],
    }
