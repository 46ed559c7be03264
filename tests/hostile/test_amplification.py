"""Small inputs that would make a scan's time, memory and reports explode.

A pod with 100k containers once took 36 s and 4.5 GB: every rule checked every container and
listed every finding. Containers past the per-template limit are reported as not checked, and a
rule's findings on one object past the listing limit are summarised in one finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import stockade
from stockade.engine.limits import MAX_FINDINGS_PER_RULE_AND_OBJECT
from stockade.model.finding import Status
from stockade.model.podspec import MAX_CHECKED_CONTAINERS
from stockade.model.result import EXIT_FINDINGS, EXIT_UNREADABLE


def pod_yaml(lists: dict[str, int], name: str = "big") -> str:
    lines = ["apiVersion: v1", "kind: Pod", f"metadata: {{name: {name}, namespace: app}}", "spec:"]
    for list_name, count in lists.items():
        lines.append(f"  {list_name}:")
        lines += [f"  - {{name: {list_name}-{i}, image: nginx}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def scan(path: Path, *rules: str) -> stockade.ScanResult:
    return stockade.scan([stockade.FileSource([str(path)])], stockade.ScanOptions(rules=list(rules)))


# Run in a child process, so its peak memory is the scan's own (tracemalloc would slow it 10x).
_MEASURE = """
import json, resource, sys, time
from collections import Counter
import stockade
from stockade.report import ReportContext
started = time.monotonic()
result = stockade.scan([stockade.FileSource([sys.argv[1]])])
elapsed = time.monotonic() - started
report = json.loads(stockade.render("json", ReportContext(result)))
per_rule = Counter((f["rule"]["id"], f["resource"]["kind"]) for f in report["findings"])
print(json.dumps({
    "elapsed": elapsed,
    "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "gate": result.gate("none"),
    "errors": report["errors"],
    "notices": report["notices"],
    "findings": len(report["findings"]),
    "most_per_rule": max(per_rule.values()),
    "summaries": [f["message"] for f in report["findings"] if f["rule"]["id"] == "WL-002" and not f["container"]],
}))
"""


def test_a_pod_with_100k_containers_is_scanned_in_bounded_time_and_memory(tmp_path: Path) -> None:
    manifest = tmp_path / "big.yaml"
    manifest.write_text(pod_yaml({"containers": 100_000}))
    child = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(manifest)], capture_output=True, text=True, check=True, timeout=120
    )
    measured = json.loads(child.stdout)
    # Unbounded, this took 36 s and 4.5 GB; parsing the 3 MB file alone needs ~150 MB.
    assert measured["elapsed"] < 30, measured["elapsed"]
    assert measured["peak_kib"] < 600 * 1024, measured["peak_kib"]

    [problem] = measured["errors"]
    assert problem["kind"] == "limit" and problem["line"] == 4 and problem["object"] == "Pod/app/big"
    assert problem["source"] == str(manifest)
    assert "100,000 containers" in problem["message"] and "99,000 are not" in problem["message"]
    assert measured["gate"] == EXIT_UNREADABLE  # not all was checked: never a clean pass

    assert measured["most_per_rule"] == MAX_FINDINGS_PER_RULE_AND_OBJECT + 1
    assert measured["findings"] < 20 * (MAX_FINDINGS_PER_RULE_AND_OBJECT + 1)
    more = MAX_CHECKED_CONTAINERS - MAX_FINDINGS_PER_RULE_AND_OBJECT
    assert measured["summaries"] == [
        f"and {more:,} more findings of this rule on this object, not listed (at most 100 are)"
    ]
    assert f"Pod/app/big: WL-002 found {MAX_CHECKED_CONTAINERS:,} problems" in " ".join(measured["notices"])


def test_the_container_limit_counts_every_list_together(tmp_path: Path) -> None:
    manifest = tmp_path / "lists.yaml"
    manifest.write_text(pod_yaml({"initContainers": 600, "containers": 500, "ephemeralContainers": 3}))
    result = scan(manifest, "WL-002")
    [problem] = result.errors
    assert "1,103 containers" in problem.message and "the first 1,000 are checked, 103 are not" in problem.message
    [summary] = [f for f in result.findings if not f.container]
    assert "and 900 more findings" in summary.message  # exactly 1,000 checked, 100 of them listed


def test_a_pod_at_the_container_limit_is_fully_checked(tmp_path: Path) -> None:
    manifest = tmp_path / "full.yaml"
    manifest.write_text(pod_yaml({"containers": MAX_CHECKED_CONTAINERS}))
    result = scan(manifest, "WL-002")
    assert result.errors == []
    [summary] = [f for f in result.findings if not f.container]
    assert f"and {MAX_CHECKED_CONTAINERS - MAX_FINDINGS_PER_RULE_AND_OBJECT:,} more" in summary.message


def test_entries_past_the_limit_are_not_reported_one_by_one(tmp_path: Path) -> None:
    lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: odd, namespace: app}", "spec:", "  containers:"]
    lines += ["  - just-a-string"] * 5_000
    manifest = tmp_path / "odd.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    result = scan(manifest, "WL-002")
    shapes = [e for e in result.errors if e.kind == "parse"]
    assert len(shapes) == MAX_CHECKED_CONTAINERS  # one per checked entry, none for the 4,000 others
    [limit] = [e for e in result.errors if e.kind == "limit"]
    assert limit.message.endswith("(at most 1,000 per pod template)")


def test_findings_past_the_listing_limit_keep_the_gate_failing(tmp_path: Path) -> None:
    manifest = tmp_path / "some.yaml"
    manifest.write_text(pod_yaml({"containers": 150}))
    result = scan(manifest, "WL-002")
    assert result.errors == []
    assert len(result.findings) == MAX_FINDINGS_PER_RULE_AND_OBJECT + 1
    [summary] = [f for f in result.findings if not f.container]
    assert "and 50 more findings of this rule on this object" in summary.message
    assert summary.location.file == str(manifest) and summary.location.line == 1
    assert result.gate("high") == EXIT_FINDINGS


def test_an_annotation_waiver_covers_the_summarised_findings(tmp_path: Path) -> None:
    text = pod_yaml({"containers": 150}).replace(
        "metadata: {name: big, namespace: app}",
        "metadata: {name: big, namespace: app, annotations:"
        " {stockade.io/ignore: WL-002, stockade.io/ignore-reason: sandbox}}",
    )
    manifest = tmp_path / "waived.yaml"
    manifest.write_text(text)
    result = scan(manifest, "WL-002")
    assert {f.status for f in result.findings} == {Status.EXCEPTED}
    assert result.gate("high") == 0


def _many_pods(path: Path, count: int, *, waived_from: int | None = None) -> None:
    documents = []
    for i in range(count):
        annotations = ""
        if waived_from is not None and i >= waived_from:
            annotations = ", annotations: {stockade.io/ignore: WL-002, stockade.io/ignore-reason: reviewed}"
        documents.append(
            f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: n{i % 7}{annotations}}}\n"
            "spec: {containers: [{name: c, image: nginx}]}\n"
        )
    path.write_text("---\n".join(documents))


def test_copies_of_one_pod_list_a_bounded_number_of_findings_per_rule(tmp_path: Path) -> None:
    # 135,000 copies of a one-line pod once made millions of findings and gigabytes; the same
    # happens at a small scale with a small limit (the default is checked below).
    manifest = tmp_path / "pods.yaml"
    _many_pods(manifest, 300)
    options = stockade.ScanOptions(rules=["WL-002", "IM-001"], max_findings_per_rule=40)
    result = stockade.scan([stockade.FileSource([str(manifest)])], options)
    for rule_id in ("WL-002", "IM-001"):
        mine = [f for f in result.findings if f.rule_id == rule_id]
        listed = [f for f in mine if f.resource.kind == "Pod"]
        summary = [f for f in mine if f.resource.kind == "Scan"]
        assert len(listed) == 40
        assert len(summary) == 1 and summary[0].status is Status.FAIL
        assert "and 260 more findings of this rule (260 open)" in summary[0].message
        assert f"{rule_id} found 300 problems; the first 40 are listed" in " ".join(result.notices)
    assert result.gate("high") == EXIT_FINDINGS  # WL-002 is high: the unlisted ones still gate
    unlimited = stockade.scan(
        [stockade.FileSource([str(manifest)])], stockade.ScanOptions(rules=["WL-002"], max_findings_per_rule=0)
    )
    assert len(unlimited.findings) == 300


def test_unlisted_excepted_findings_stay_excepted(tmp_path: Path) -> None:
    manifest = tmp_path / "pods.yaml"
    _many_pods(manifest, 100, waived_from=20)  # pods 20… carry an exception for WL-002
    options = stockade.ScanOptions(rules=["WL-002"], max_findings_per_rule=30)
    result = stockade.scan([stockade.FileSource([str(manifest)])], options)
    summary = [f for f in result.findings if f.resource.kind == "Scan"]
    assert len(summary) == 1
    assert summary[0].status is Status.EXCEPTED
    assert "(70 excepted)" in summary[0].message
    assert result.gate("high") == EXIT_FINDINGS  # the 20 open ones are listed


def test_cli_limit_option(tmp_path: Path) -> None:
    manifest = tmp_path / "pods.yaml"
    _many_pods(manifest, 30)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stockade.cli.main",
            "scan",
            str(manifest),
            "--rules",
            "WL-002",
            "-f",
            "json",
            "--max-findings-per-rule",
            "10",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    assert len([f for f in report["findings"] if f["resource"]["kind"] == "Pod"]) == 10
    bad = subprocess.run(
        [sys.executable, "-m", "stockade.cli.main", "scan", str(manifest), "--max-findings-per-rule", "-1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "negative" in bad.stderr
