"""SARIF 2.1.0 report for code-scanning services.

One run. Every selected rule becomes a reporting descriptor whose help is generated from the rule's
docstring; every finding that is not a pass becomes a result. Excepted findings stay in the log as
suppressed results, so a waiver is visible where the alert would have been. Inputs that could not be
read become tool execution notifications and mark the invocation as unsuccessful.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import orjson

from stockade.model.finding import Finding, InputProblem, Severity, SkippedInput, Status
from stockade.model.rule import RuleSpec
from stockade.model.waiver import WaiverEntry
from stockade.report import ReportContext
from stockade.report._summary import (
    SEVERITIES,
    area_title,
    clean,
    location_text,
    stale_text,
    summarize,
    waiver_text,
)

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "stockade/v1"

# GitHub code scanning reads properties["security-severity"] (a CVSS-like score) to rank alerts.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# "open": the check ran into something it could not decide, which is never a pass.
_KIND = {Status.ERROR: "open", Status.SKIPPED: "notApplicable"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: C:\ is a Windows drive


def render(ctx: ReportContext) -> str:
    return orjson.dumps(document(ctx), option=orjson.OPT_INDENT_2).decode() + "\n"


def document(ctx: ReportContext) -> dict[str, Any]:
    result = ctx.result
    index = {rule.id: position for position, rule in enumerate(result.rules)}
    driver: dict[str, Any] = {"name": "Stockade", "rules": [descriptor(rule) for rule in result.rules]}
    if ctx.tool_version:
        driver["version"] = ctx.tool_version
        driver["semanticVersion"] = ctx.tool_version
    uri = information_uri()
    if uri:
        driver["informationUri"] = uri
    results = [_result(f, index) for f in result.findings if f.status is not Status.PASS]
    invocation: dict[str, Any] = {
        "executionSuccessful": not result.errors and not any(f.status is Status.ERROR for f in result.findings),
        "toolExecutionNotifications": [_input_error(e) for e in result.errors]
        + [_skipped_input(s) for s in result.skipped_inputs],
        "toolConfigurationNotifications": [_stale(e) for e in result.stale_exceptions]
        + [_skipped_rule(rid, why, index) for rid, why in sorted(result.skipped_rules.items())]
        + [{"level": "warning", "message": {"text": notice}} for notice in result.notices],
    }
    if ctx.generated_at:
        invocation["endTimeUtc"] = ctx.generated_at
    summary = summarize(result, ctx.fail_on)
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "targets": list(ctx.targets),
            "resourcesScanned": summary.resources_scanned,
            "failedBySeverity": {s.value: summary.by_severity[s] for s in SEVERITIES},
            "passed": summary.passed,
            "excepted": summary.excepted,
            **({"posture": ctx.posture.to_json()} if ctx.posture is not None else {}),
            "compliance": [
                {
                    "id": c.framework.id,
                    "title": c.framework.title,
                    "score": round(c.score, 2),
                    "controlsPassing": c.controls_passing,
                    "controlsFailing": c.controls_failing,
                }
                for c in ctx.compliance
            ],
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def information_uri() -> str | None:
    """The project's home page from the installed package metadata, when it names one."""
    from importlib import metadata

    try:
        meta = metadata.metadata("stockade")
    except metadata.PackageNotFoundError:
        return None
    candidates = [entry.partition(",")[2].strip() for entry in meta.get_all("Project-URL") or []]
    candidates += [str(home).strip() for home in meta.get_all("Home-page") or []]
    return next((url for url in candidates if url.startswith("https://")), None)


# -- rules ---------------------------------------------------------------------------------------


def descriptor(rule: RuleSpec) -> dict[str, Any]:
    tags = ["security", rule.area, rule.stage.value, *sorted(rule.frameworks)]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": _one_paragraph(rule.doc.what)},
        "help": {"text": help_text(rule), "markdown": help_markdown(rule)},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": list(dict.fromkeys(tags)),
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "severity": rule.severity.value,
            "area": rule.area,
            "stage": rule.stage.value,
            "frameworks": {fid: list(ids) for fid, ids in sorted(rule.frameworks.items())},
        },
    }


def _one_paragraph(text: str) -> str:
    return " ".join(text.split())


def _frameworks_line(rule: RuleSpec) -> str:
    return "; ".join(f"{fid} {', '.join(ids)}" for fid, ids in sorted(rule.frameworks.items()))


def help_text(rule: RuleSpec) -> str:
    doc = rule.doc
    parts = [
        f"{rule.id} {rule.name}: {rule.title}",
        f"Severity {rule.severity.value}, area {area_title(rule.area)}, stage {rule.stage.value}.",
        f"What it does\n{doc.what}",
        f"Why is this bad?\n{doc.why}",
        f"Example\n{doc.example.rstrip()}",
        f"Use instead\n{doc.use_instead.rstrip()}",
        f"Remediation\n{doc.remediation}",
    ]
    if rule.frameworks:
        parts.append(f"Frameworks: {_frameworks_line(rule)}")
    if doc.references:
        parts.append("References\n" + "\n".join(doc.references))
    parts.append(
        f"Waive it on one object with the annotations stockade.io/ignore: {rule.id} and "
        "stockade.io/ignore-reason, or in an exceptions file."
    )
    return "\n\n".join(parts)


def help_markdown(rule: RuleSpec) -> str:
    doc = rule.doc
    parts = [
        f"**{rule.title}** — severity **{rule.severity.value}**, area *{area_title(rule.area)}*, "
        f"stage *{rule.stage.value}*",
        doc.what,
        f"### Why is this bad?\n\n{doc.why}",
        f"### Example\n\n```yaml\n{doc.example.rstrip()}\n```",
        f"### Use instead\n\n```yaml\n{doc.use_instead.rstrip()}\n```",
        f"### Remediation\n\n{doc.remediation}",
    ]
    if rule.frameworks:
        parts.append(f"**Frameworks:** {_frameworks_line(rule)}")
    if doc.references:
        parts.append("### References\n\n" + "\n".join(f"- {ref}" for ref in doc.references))
    parts.append(
        f"Waive it on one object with the annotations `stockade.io/ignore: {rule.id}` and "
        "`stockade.io/ignore-reason: <why>`, or in an exceptions file (`--exceptions`)."
    )
    return "\n\n".join(parts)


# -- results -------------------------------------------------------------------------------------


def artifact_uri(file: str) -> str | None:
    """A URI reference for a scanned file: relative paths stay relative (with forward slashes).

    None for origins that are not files (``<stdin>``, ``cluster:<context>``).
    """
    if not file or file.startswith("<") or _SCHEME.match(file):
        return None
    windows = PureWindowsPath(file)
    if windows.drive:
        return windows.as_uri() if windows.is_absolute() else None
    # Backslashes separate a Windows path; in a POSIX path (it has a "/") they belong to a name,
    # e.g. the ``\xff`` an undecodable byte is written as, and are percent-encoded.
    posix = PurePosixPath(file if "/" in file else file.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    text = quote(posix.as_posix(), safe="/!$&'()*+,;=@-._~")
    return text


def _physical(file: str, line: int | None) -> dict[str, Any] | None:
    uri = artifact_uri(file)
    if uri is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if line is not None and line >= 1:
        physical["region"] = {"startLine": line}
    return physical


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    ref = finding.resource
    subject = ref.display + (f" (container {finding.container})" if finding.container else "")
    location: dict[str, Any] = {}
    physical = _physical(finding.location.file, finding.location.line)
    if physical is not None:
        location["physicalLocation"] = physical
    # Viewers show the message and the logical location; properties keep the exact values for tools.
    logical: dict[str, Any] = {"name": clean(ref.name), "fullyQualifiedName": clean(ref.display), "kind": "resource"}
    location["logicalLocations"] = [logical]
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": LEVEL[finding.severity],
        "kind": _KIND.get(finding.status, "fail"),
        "message": {"text": clean(f"{finding.message} — {subject}")},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "status": finding.status.value,
            "severity": finding.severity.value,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "resource": {
                "apiVersion": ref.api_version,
                "kind": ref.kind,
                "namespace": ref.namespace,
                "name": ref.name,
            },
            "container": finding.container,
            "path": finding.path,
            "remediation": finding.remediation,
        },
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    waiver = finding.waiver
    if waiver is not None and finding.status is Status.EXCEPTED:
        result["suppressions"] = [
            {
                # an annotation lives in the manifest itself; a file entry is kept elsewhere
                "kind": "inSource" if waiver.source == "annotation" else "external",
                "status": "accepted",
                "justification": clean(waiver_text(waiver)),
            }
        ]
    elif waiver is not None:  # expired: the finding is open again, and says which waiver lapsed
        result["properties"]["expiredException"] = {"source": waiver.source, "expires": waiver.expires}
    return result


# -- notifications -------------------------------------------------------------------------------


def _input_error(error: InputProblem) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": clean(f"{location_text(error.source, error.line)}: {error.message}")},
        "properties": {"kind": error.kind, "source": error.source, "object": error.object},
    }
    location: dict[str, Any] = {}
    physical = _physical(error.source, error.line)
    if physical is not None:
        location["physicalLocation"] = physical
    if error.object:
        location["logicalLocations"] = [{"fullyQualifiedName": clean(error.object), "kind": "resource"}]
    if location:
        notification["locations"] = [location]
    return notification


def _skipped_input(skipped: SkippedInput) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": "note",
        "message": {"text": clean(f"skipped {location_text(skipped.source, skipped.line)}: {skipped.reason}")},
    }
    physical = _physical(skipped.source, skipped.line)
    if physical is not None:
        notification["locations"] = [{"physicalLocation": physical}]
    return notification


def _stale(entry: WaiverEntry) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": "warning",
        "message": {"text": clean(f"stale exception {stale_text(entry)}")},
    }
    physical = _physical(entry.source.rpartition("#")[0] or entry.source, None)
    if physical is not None:
        notification["locations"] = [{"physicalLocation": physical}]
    return notification


def _skipped_rule(rule_id: str, reason: str, index: dict[str, int]) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": "note", "message": {"text": clean(f"rule {rule_id} skipped: {reason}")}}
    if rule_id in index:
        notification["associatedRule"] = {"id": rule_id, "index": index[rule_id]}
    return notification
