"""PolicyReport output (wgpolicyk8s.io/v1alpha2): valid against the kinds' schema, one report per
namespace plus the cluster report, results that map one to one to findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from stockade.model.finding import Status
from stockade.report import ReportContext, render
from stockade.report.policyreport_report import report_name

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "policyreport" / "policyreport-v1alpha2.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _reports(ctx: ReportContext) -> list[dict[str, Any]]:
    reports = list(yaml.safe_load_all(render("policyreport", ctx)))
    for report in reports:
        errors = list(VALIDATOR.iter_errors(report))
        assert not errors, "\n".join(f"{list(err.absolute_path)}: {err.message}" for err in errors)
    return reports


@pytest.mark.parametrize("name", ["full_ctx", "passed_ctx", "empty_ctx", "hostile_ctx"])
def test_every_report_validates(name: str, request: pytest.FixtureRequest) -> None:
    assert _reports(request.getfixturevalue(name))


def test_the_schema_refuses_what_the_api_server_would_prune_or_reject(full_ctx: ReportContext) -> None:
    report = _reports(full_ctx)[0]
    broken = json.loads(json.dumps(report))
    broken["results"][0]["result"] = "failed"
    broken["results"][1]["unknown"] = "x"
    broken["results"][2]["properties"]["line"] = 7
    messages = [err.message for err in VALIDATOR.iter_errors(broken)]
    assert len(messages) == 3, messages


def test_one_report_per_namespace_and_the_cluster_report(full_ctx: ReportContext) -> None:
    reports = _reports(full_ctx)
    kinds = [(r["kind"], r["metadata"].get("namespace")) for r in reports]
    namespaces = sorted({f.resource.namespace for f in full_ctx.result.findings if f.resource.namespace})
    assert kinds == [("PolicyReport", ns) for ns in namespaces] + [("ClusterPolicyReport", None)]
    # Every finding is one result, in the report of its namespace.
    results = [(r["metadata"].get("namespace"), item) for r in reports for item in r["results"]]
    from_findings = [item for _, item in results if item["policy"] != "input"]
    assert len(from_findings) == len(full_ctx.result.findings)
    for namespace, item in results:
        for resource in item.get("resources", []):
            assert resource.get("namespace") == namespace


def test_results_carry_status_severity_location_and_exception(full_ctx: ReportContext) -> None:
    reports = _reports(full_ctx)
    items = [item for r in reports for item in r["results"]]
    by_fingerprint = {item["properties"].get("fingerprint"): item for item in items}
    for finding in full_ctx.result.findings:
        item = by_fingerprint[finding.fingerprint]
        expected = {Status.FAIL: "fail", Status.EXCEPTED: "skip", Status.ERROR: "error", Status.PASS: "pass"}
        assert item["result"] == expected[finding.status]
        assert item["severity"] == finding.severity.value
        assert item["policy"] == finding.rule_id
        assert item["properties"]["file"] == finding.location.file
        if finding.status is Status.EXCEPTED:
            assert finding.waiver is not None
            assert item["properties"]["exception"] == finding.waiver.reason
    excepted = [item for item in items if item["result"] == "skip"]
    assert excepted, "the fixture has excepted findings"
    expired = [item for item in items if item["properties"].get("exceptionExpired") == "true"]
    assert expired and all(item["result"] == "fail" for item in expired)


def test_summary_counts_the_results_of_its_own_report(passed_ctx: ReportContext) -> None:
    for report in _reports(passed_ctx):
        counted = dict.fromkeys(("pass", "fail", "warn", "error", "skip"), 0)
        for item in report["results"]:
            counted[item["result"]] += 1
        assert report["summary"] == counted
    assert any(r["summary"]["pass"] for r in _reports(passed_ctx))


def test_unreadable_inputs_are_errors_in_the_cluster_report(full_ctx: ReportContext) -> None:
    cluster = _reports(full_ctx)[-1]
    inputs = [item for item in cluster["results"] if item["policy"] == "input"]
    assert [item["message"] for item in inputs] == [
        "broken/deploy.yaml:7: mapping values are not allowed here",
        "charts/web: helm template failed: exit status 1",
    ]
    assert all(item["result"] == "error" and "resources" not in item for item in inputs)


def test_timestamp_is_seconds_and_nanos(full_ctx: ReportContext) -> None:
    item = _reports(full_ctx)[0]["results"][0]
    assert item["timestamp"] == {"seconds": 1795420800, "nanos": 0}  # 2026-11-23T08:00:00Z


def test_hostile_names_stay_inert(hostile_ctx: ReportContext) -> None:
    text = render("policyreport", hostile_ctx)
    assert "\x1b" not in text and "&" not in text.split("results:")[0]
    reports = _reports(hostile_ctx)
    names = [r["metadata"]["name"] for r in reports]
    assert "stockade-a-b-octocat" in names
    # The object's namespace is kept as written (the report is about it), quoted by YAML.
    assert any(r["metadata"].get("namespace") == "a|b @octocat" for r in reports)


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [(None, "stockade-cluster"), ("shop", "stockade-shop"), ("A_B", "stockade-a-b"), ("...", "stockade-unnamed")],
)
def test_report_names_are_valid_object_names(namespace: str | None, expected: str) -> None:
    assert report_name(namespace) == expected


def test_cli_writes_a_stream_kubectl_can_apply(tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  containers:\n  - name: app\n    image: nginx:1.27\n    securityContext: {privileged: true}\n"
    )
    out = tmp_path / "report.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "stockade.cli.main", "scan", str(manifest), "-f", "policyreport", "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # findings at or above the default threshold
    reports = list(yaml.safe_load_all(out.read_text()))
    # The pod's findings in its namespace's report; the namespace's own (no NetworkPolicy) in the
    # cluster report, since a Namespace is cluster-scoped.
    assert [r["kind"] for r in reports] == ["PolicyReport", "ClusterPolicyReport"]
    assert {item["resources"][0]["kind"] for item in reports[1]["results"]} == {"Namespace"}
    assert reports[0]["metadata"] == {
        "name": "stockade-shop",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "stockade"},
    }
    assert "WL-001" in {item["policy"] for item in reports[0]["results"]}
