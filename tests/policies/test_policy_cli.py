"""``stockade policy test | dry-run``, ``scan --policies`` and ``rules list|explain --policies``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stockade.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "examples" / "policies"
SUITES = ROOT / "examples" / "policy-tests"
DEMO = ROOT / "examples" / "demo"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_example_suite_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "policy", "test", str(SUITES))
    assert code == 0, out + err
    assert "6 case(s): 6 passed, 0 failed" in out


def test_a_failing_case_fails_the_run_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = (SUITES / "examples.yaml").read_text().replace("policies: [../policies]", f"policies: [{POLICIES}]")
    suite = suite.replace('  expect: deny\n  messages: ["replicas 40', '  expect: allow\n  messages: ["replicas 40', 1)
    (tmp_path / "suite.yaml").write_text(suite)
    code, out, _ = run(capsys, "policy", "test", str(tmp_path / "suite.yaml"))
    assert code == 1
    assert "FAIL  example-policies / too many replicas are denied: expected allow, got deny" in out
    code, out, _ = run(capsys, "policy", "test", str(tmp_path / "suite.yaml"), "--format", "junit")
    root = ET.fromstring(out.split("?>", 1)[1])
    failures = [case.get("name") for case in root.iter("testcase") if case.find("failure") is not None]
    assert failures == ["too many replicas are denied"]


def test_a_malformed_suite_is_exit_3_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: stockade.io/v1alpha1\nkind: PolicyTest\npolicies: []\ncases: []\n")
    code, _, err = run(capsys, "policy", "test", str(bad))
    assert code == 3
    assert f"{bad}: policies must list" in err


def test_dry_run_lists_what_each_policy_would_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "policy", "dry-run", "--policy", str(POLICIES), str(DEMO), "--format", "json")
    document = json.loads(out)
    assert document["kind"] == "PolicyDryRun"
    assert document["policies"] == ["POL-max-replicas", "POL-no-nodeport-services", "POL-require-team-label"]
    effects = {(e["rule"], e["effect"]) for e in document["effects"]}
    assert effects, "the demo has workloads without a team label"
    assert all(effect in ("denied", "warned", "audited", "logged", "error") for _, effect in effects)
    denied = any(effect == "denied" for _, effect in effects)
    assert code == (1 if denied else 0), err


def test_scan_with_policies_and_rules_listing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "list", "--policies", str(POLICIES), "--rules", "POL", "--format", "json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == [
        "POL-max-replicas",
        "POL-no-nodeport-services",
        "POL-require-team-label",
    ]
    code, out, _ = run(capsys, "rules", "explain", "POL-require-team-label", "--policies", str(POLICIES))
    assert code == 0
    assert "Workload without an owning team" in out
    code, out, _ = run(
        capsys, "scan", "--no-progress", str(DEMO), "--policies", str(POLICIES), "--rules", "POL", "--format", "json"
    )
    rules = {f["rule"]["id"] for f in json.loads(out)["findings"]}
    assert "POL-require-team-label" in rules
