"""``stockade pss evaluate`` output: one JSON object per pod (JSON lines), or a table for people.

The table lists every pod with its policy and result; below it, per pod, each violation and what the
namespace's audit and warn labels would report; last, the count of allowed and denied pods.
"""

from __future__ import annotations

from typing import Any

import orjson

from stockade.pss import PssResult
from stockade.pss.admission import Evaluation, Policy, Verdict
from stockade.report._summary import clean, plural
from stockade.report._table import table_lines
from stockade.report.problems import note

HEADERS = ("NAMESPACE", "KIND", "NAME", "POLICY", "FROM", "RESULT")


def _violations_json(result: PssResult) -> list[dict[str, Any]]:
    return [{"check": v.check, "message": v.message, "containers": list(v.containers)} for v in result.violations]


def _mode_json(policy: Policy, result: PssResult) -> dict[str, Any]:
    return {
        "level": policy.level,
        "version": str(policy.version),
        "allowed": result.allowed,
        "violations": _violations_json(result),
    }


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    carrier = verdict.pod.carrier
    policy = verdict.policy
    return {
        "kind": carrier.kind,
        "namespace": verdict.namespace,
        "name": carrier.name,
        "allowed": verdict.allowed,
        "level": policy.level,
        "version": str(policy.version),
        "policy": {"level": policy.level, "version": str(policy.version), "from": policy.source},
        "violations": _violations_json(verdict.result),
        "file": carrier.origin.file,
        "line": carrier.origin.line,
        # What the namespace's audit / warn labels would record or print; null when unlabelled.
        **dict.fromkeys(("audit", "warn")),
        **{mode: _mode_json(policy, result) for mode, policy, result in verdict.modes},
    }


def render_json_lines(evaluation: Evaluation) -> str:
    return "".join(orjson.dumps(verdict_json(v)).decode() + "\n" for v in evaluation.verdicts)


def _result_text(result: PssResult) -> str:
    return "allowed" if result.allowed else "denied: " + ", ".join(x.check for x in result.violations)


def _details(verdict: Verdict) -> list[str]:
    lines = [f"    {v.check}: {clean(v.message)}" for v in verdict.result.violations]
    for mode, policy, result in verdict.modes:
        if not result.allowed:
            checks = ", ".join(x.check for x in result.violations)
            lines.append(f"    {mode} ({policy.level}:{policy.version}) would report: {checks}")
    if not lines:
        return []
    carrier = verdict.pod.carrier
    where = f"{verdict.namespace}/" if verdict.namespace else ""
    return [clean(f"{carrier.kind}/{where}{carrier.name} at {verdict.policy.level}:{verdict.policy.version}:"), *lines]


def render_table(evaluation: Evaluation) -> str:
    verdicts = evaluation.verdicts
    rows = [
        (
            v.namespace or "-",
            v.pod.carrier.kind,
            v.pod.carrier.name,
            f"{v.policy.level}:{v.policy.version}",
            v.policy.source,
            _result_text(v.result),
        )
        for v in verdicts
    ]
    lines = table_lines(HEADERS, rows)
    for verdict in verdicts:
        details = _details(verdict)
        if details:
            lines += ["", *details]
    denied = len(evaluation.denied)
    lines += ["", f"{plural(len(verdicts), 'pod')} evaluated: {len(verdicts) - denied} allowed, {denied} denied"]
    return "\n".join(lines) + "\n"


def render_notes(evaluation: Evaluation, inputs_complete: bool) -> str:
    """stderr notes: pods evaluated at the default for want of their Namespace objects; no pods at all."""
    out = ""
    if evaluation.missing_namespaces:
        names = ", ".join(sorted(evaluation.missing_namespaces))
        default = evaluation.default
        out += note(
            f"the Namespace objects of {names} are not in the input; their pods were evaluated "
            f"at {default.level}:{default.version} (give --level, --default-level, or the Namespace objects)"
        )
    if not evaluation.verdicts and inputs_complete:
        out += note("no pods or pod templates in the input")
    return out
