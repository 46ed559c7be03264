"""PolicyReport output: ``wgpolicyk8s.io/v1alpha2`` reports, the format Kyverno writes and Policy
Reporter (and other in-cluster dashboards) read.

One ``PolicyReport`` per namespace that has findings and one ``ClusterPolicyReport`` for
cluster-scoped objects and for what concerns the scan as a whole (inputs that could not be read,
rules that could not run), as a YAML stream ``kubectl apply -f`` takes. Results map one to one to
findings: ``fail`` is open, ``skip`` is excepted (the exception is in ``properties``), ``error``
could not be evaluated, ``pass`` appears when the scan kept passes. The summary counts the results
of its own report, so the printer columns (Pass, Fail, …) agree with the list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from stockade.model.finding import Finding, InputProblem, Status
from stockade.model.rule import RuleSpec
from stockade.report import ReportContext
from stockade.report._summary import rules_by_id

API_VERSION = "wgpolicyk8s.io/v1alpha2"
SOURCE = "stockade"
RESULTS = ("pass", "fail", "warn", "error", "skip")
_RESULT_OF = {
    Status.FAIL: "fail",
    Status.PASS: "pass",
    Status.ERROR: "error",
    Status.EXCEPTED: "skip",
    Status.SKIPPED: "skip",
}
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Writes shared values (the timestamp) out in full: anchors and aliases confuse readers."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def render(ctx: ReportContext) -> str:
    reports = documents(ctx)
    # Non-ASCII and control characters are written as escapes: names from hostile manifests stay
    # inert text in any terminal or editor that shows the report.
    return yaml.dump_all(reports, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=1 << 16)


def documents(ctx: ReportContext, *, name_prefix: str = SOURCE) -> list[dict[str, Any]]:
    """The reports as plain data: namespaced ones sorted by namespace, then the cluster report;
    named ``<name_prefix>-<namespace>`` and ``<name_prefix>-cluster``."""
    result = ctx.result
    rules = rules_by_id(result)
    stamp = _timestamp(ctx.generated_at)
    by_namespace: dict[str | None, list[dict[str, Any]]] = {}
    for finding in result.findings:
        by_namespace.setdefault(finding.resource.namespace, []).append(_result(finding, rules, stamp))
    scan_level = [_input_result(problem, stamp) for problem in result.errors]
    reports = [
        _report("PolicyReport", namespace, results, name_prefix)
        for namespace, results in sorted((ns, r) for ns, r in by_namespace.items() if ns is not None)
    ]
    cluster_results = by_namespace.get(None, []) + scan_level + _posture_results(ctx, stamp)
    if cluster_results or not reports:
        reports.append(_report("ClusterPolicyReport", None, cluster_results, name_prefix))
    return reports


def _report(kind: str, namespace: str | None, results: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": report_name(namespace, prefix)}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = {"app.kubernetes.io/managed-by": SOURCE}
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "summary": _summary(results),
        "results": results,
    }


def report_name(namespace: str | None, prefix: str = SOURCE) -> str:
    """``stockade-<namespace>`` (``stockade-cluster`` for the cluster report), a valid object name
    whatever the namespace is spelled like in the manifests; ``prefix`` replaces ``stockade``."""
    if namespace is None:
        return f"{prefix}-cluster"
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", namespace.lower()).strip(".-") or "unnamed"
    return f"{prefix}-{cleaned}"[:253].rstrip(".-")


def _summary(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(RESULTS, 0)
    for item in results:
        counts[item["result"]] += 1
    return counts


def _result(finding: Finding, rules: Mapping[str, RuleSpec], stamp: dict[str, int]) -> dict[str, Any]:
    rule = rules.get(finding.rule_id)
    ref = finding.resource
    resource: dict[str, str] = {"apiVersion": ref.api_version, "kind": ref.kind, "name": ref.name}
    if ref.namespace is not None:
        resource["namespace"] = ref.namespace
    item: dict[str, Any] = {
        "source": SOURCE,
        "policy": finding.rule_id,
        "rule": rule.name if rule is not None else finding.rule_id.lower(),
        "category": rule.area.value if rule is not None else "unknown",
        "severity": finding.severity.value,
        "result": _RESULT_OF[finding.status],
        "scored": True,
        "message": finding.message,
        "timestamp": stamp,
        "properties": _properties(finding),
    }
    if ref.api_version:  # not a problem of the scan as a whole (a rule that could not run at all)
        item["resources"] = [resource]
    return item


def _properties(finding: Finding) -> dict[str, str]:
    """Free-form ``map[string]string``: where the finding is and how to fix or why it is excepted."""
    found = {
        "fingerprint": finding.fingerprint,
        "file": finding.location.file,
        "line": str(finding.location.line) if finding.location.line else "",
        "path": finding.path,
        "container": finding.container or "",
        "remediation": finding.remediation,
    }
    waiver = finding.waiver
    if waiver is not None:
        found["exception"] = waiver.reason
        found["exceptionSource"] = waiver.source
        found["exceptionExpires"] = waiver.expires or ""
        found["exceptionExpired"] = "true" if waiver.expired else ""
    return {key: value for key, value in found.items() if value}


def _posture_results(ctx: ReportContext, stamp: dict[str, int]) -> list[dict[str, Any]]:
    """The scorecard (scan --posture): one unscored result per area and stage, in the cluster report."""
    if ctx.posture is None:
        return []
    from stockade.posture import Met

    outcome = {Met.MET: "pass", Met.NOT_MET: "fail", Met.NOT_ASSESSED: "skip"}
    return [
        {
            "source": SOURCE,
            "policy": "posture",
            "rule": f"{area.area.value}-{stage.stage.value}",
            "category": area.area.value,
            "result": outcome[stage.met],
            "scored": False,
            "message": f"{area.area.label}, {stage.stage.value}: {stage.met.value}. Next step: {area.next_step}",
            "timestamp": stamp,
            "properties": {"stage": stage.stage.value, "reached": area.summary},
        }
        for area in ctx.posture.areas
        for stage in area.stages
    ]


def _input_result(problem: InputProblem, stamp: dict[str, int]) -> dict[str, Any]:
    where = f"{problem.source}:{problem.line}" if problem.line else problem.source
    properties = {"source": problem.source, "line": str(problem.line or ""), "object": problem.object or ""}
    return {
        "source": SOURCE,
        "policy": "input",
        "rule": problem.kind,
        "category": "inputs",
        "severity": "high",
        "result": "error",
        "scored": True,
        "message": f"{where}: {problem.message}",
        "timestamp": stamp,
        "properties": {key: value for key, value in properties.items() if value},
    }


def _timestamp(generated_at: str) -> dict[str, int]:
    """``metav1.Timestamp`` ({seconds, nanos}), not RFC 3339, as the type declares."""
    try:
        moment = dt.datetime.fromisoformat(generated_at.replace("Z", "+00:00"))
    except ValueError:
        moment = dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return {"seconds": int(moment.timestamp()), "nanos": moment.microsecond * 1000}
