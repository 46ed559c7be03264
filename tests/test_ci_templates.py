"""The GitHub Action (action.yml + ci/stockade-action.sh) and the GitLab CI template.

Their structure is checked as GitHub and GitLab read it; their shell runs in real bash with the
variables the CI would set (the action's step env with its inputs filled in as GitHub fills them,
the template's variables), against a manifest directory, the `stockade` of this virtualenv on PATH.
Installing Stockade (pip, the network) is the one step not run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import PRIVILEGED_POD

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
ACTION_SCRIPT = ROOT / "ci" / "stockade-action.sh"
GITLAB = ROOT / "ci" / "gitlab" / "stockade.gitlab-ci.yml"
BIN = Path(sys.executable).parent  # where `make install` put stockade
INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")

# High findings only (no critical one): what --fail-on critical lets through.
ESCALATING = PRIVILEGED_POD.replace("privileged: true", "privileged: false").replace("name: web\n  n", "name: api\n  n")
CLEAN = PRIVILEGED_POD.replace("privileged: true", "privileged: false\n        allowPrivilegeEscalation: false")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def action_steps() -> list[dict[str, Any]]:
    steps = load(ACTION)["runs"]["steps"]
    assert isinstance(steps, list)
    return steps


def step(step_id: str) -> dict[str, Any]:
    (found,) = [s for s in action_steps() if s.get("id") == step_id]
    return found


def manifests(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def base_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path)}


# --- GitHub Action -----------------------------------------------------------------------------


def test_action_structure() -> None:
    action = load(ACTION)
    assert {"name", "description", "inputs", "outputs", "runs"} <= action.keys()
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert spec["description"] and "default" in spec, name
    assert action["inputs"]["format"]["default"] == "sarif"
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"\binputs\.([\w-]+)", text))
    assert used == set(action["inputs"]), "every input used, and only declared ones"
    for step_spec in action_steps():
        # Composite run steps must name their shell; inputs go through env, never into the script.
        if "run" in step_spec:
            assert step_spec["shell"] == "bash"
            assert "${{" not in step_spec["run"]
    for output in action["outputs"].values():
        assert output["value"].startswith("${{ steps.scan.outputs.")


def test_action_scan_step_runs_the_script_with_every_variable_it_reads() -> None:
    scan = step("scan")
    assert scan["run"] == 'bash "$GITHUB_ACTION_PATH/ci/stockade-action.sh"'
    read = set(re.findall(r"\$\{?(STOCKADE_\w+)", ACTION_SCRIPT.read_text(encoding="utf-8")))
    assert read == set(scan["env"])


def test_sarif_upload_runs_when_the_scan_fails_and_only_for_a_sarif_report() -> None:
    (upload,) = [s for s in action_steps() if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    condition = upload["if"]
    assert condition.startswith("always() && ")
    assert "steps.scan.outputs.format == 'sarif'" in condition
    assert "steps.scan.outputs.report != ''" in condition
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.report }}"
    # The scan step itself must not swallow the failure: the job fails through it.
    assert "continue-on-error" not in step("scan")


def run_action_script(
    tmp_path: Path, inputs: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The scan step as GitHub runs it: its env with ${{ inputs.* }} filled in (defaults for the
    inputs not given), GITHUB_OUTPUT a file, the workspace as the working directory."""
    defaults = {name: str(spec["default"]) for name, spec in load(ACTION)["inputs"].items()}
    values = {**defaults, **inputs}
    env = {key: INPUT_REF.sub(lambda m: values[m[1]], str(value)) for key, value in step("scan")["env"].items()}
    github_output = tmp_path / "github_output"
    github_output.write_text("", encoding="utf-8")
    env |= base_env(tmp_path) | {"GITHUB_OUTPUT": str(github_output), "GITHUB_ACTION_PATH": str(ROOT)}
    result = subprocess.run(
        ["bash", "-c", step("scan")["run"]],
        cwd=tmp_path / "workspace",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    outputs = dict(line.split("=", 1) for line in github_output.read_text(encoding="utf-8").splitlines())
    return result, outputs


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return manifests(
        tmp_path / "workspace",
        {"k8s/web.yaml": PRIVILEGED_POD, "k8s/api.yaml": ESCALATING, "clean/ok.yaml": CLEAN, "README.md": "# app\n"},
    )


def test_action_defaults_write_sarif_and_fail_on_findings(tmp_path: Path, workspace: Path) -> None:
    result, outputs = run_action_script(tmp_path, {"path": "k8s"})
    assert result.returncode == 1, result.stderr
    assert outputs == {"exit-code": "1", "format": "sarif", "report": "stockade.sarif"}
    sarif = json.loads((workspace / "stockade.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    located = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in sarif["runs"][0]["results"]
    }
    assert ("WL-001", "k8s/web.yaml") in located
    assert "findings at or above high" in result.stderr


def test_action_threshold_paths_format_output_and_args(tmp_path: Path, workspace: Path) -> None:
    # Two paths, fail-on critical: the escalating pod is high only and the clean one passes.
    result, outputs = run_action_script(
        tmp_path,
        {
            "path": "k8s/api.yaml clean",
            "fail-on": "critical",
            "format": "json",
            "output": "reports/scan.json",
            "args": "--rules WL-002,WL-001 --include-passed",
        },
    )
    assert result.returncode == 0, result.stderr
    assert outputs == {"exit-code": "0", "format": "json", "report": "reports/scan.json"}
    report = json.loads((workspace / "reports" / "scan.json").read_text(encoding="utf-8"))
    statuses = {(f["rule"]["id"], f["resource"]["name"], f["status"]) for f in report["findings"]}
    assert statuses == {
        ("WL-001", "api", "pass"),
        ("WL-002", "api", "fail"),
        ("WL-001", "web", "pass"),
        ("WL-002", "web", "pass"),
    }
    assert not (workspace / "stockade.sarif").exists()


def test_action_usage_error_leaves_no_report_to_upload(tmp_path: Path, workspace: Path) -> None:
    result, outputs = run_action_script(tmp_path, {"args": "--rules NO-SUCH-RULE"})
    assert result.returncode == 2
    assert "NO-SUCH-RULE" in result.stderr
    assert outputs == {"exit-code": "2", "format": "sarif"}


# --- GitLab CI ---------------------------------------------------------------------------------


def test_gitlab_template_structure() -> None:
    template = load(GITLAB)
    job = template["stockade"]
    assert set(template) == {"variables", "stockade"}
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "stockade-junit.xml"
    assert set(job["artifacts"]["paths"]) == {"stockade.sarif", "stockade-junit.xml"}
    (install,) = job["before_script"]
    assert "pip install" in install and '"stockade${STOCKADE_VERSION:+==$STOCKADE_VERSION}"' in install
    script = "\n".join(job["script"])
    for variable in template["variables"]:
        assert f"${variable}" in script or variable == "STOCKADE_VERSION", variable


def run_gitlab_script(tmp_path: Path, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The job's script as the runner runs it: one bash script, stopping at the first failure,
    with the template's variables (overridden as a project would)."""
    template = load(GITLAB)
    env = base_env(tmp_path) | {k: str(v) for k, v in template["variables"].items()} | variables
    script = "set -eo pipefail\n" + "\n".join(template["stockade"]["script"])
    return subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path / "workspace",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def junit_failures(path: Path) -> set[str]:
    root = ET.parse(path).getroot()
    return {str(case.get("classname")) for case in root.iter("testcase") if case.find("failure") is not None}


def test_gitlab_job_fails_on_findings_and_keeps_both_reports(tmp_path: Path, workspace: Path) -> None:
    result = run_gitlab_script(tmp_path, {"STOCKADE_PATH": "k8s clean"})
    assert result.returncode == 1, result.stderr
    assert "stockade.WL-001" in junit_failures(workspace / "stockade-junit.xml")
    sarif = json.loads((workspace / "stockade.sarif").read_text(encoding="utf-8"))
    assert "WL-001" in {r["ruleId"] for r in sarif["runs"][0]["results"]}


def test_gitlab_job_passes_below_the_threshold(tmp_path: Path, workspace: Path) -> None:
    result = run_gitlab_script(
        tmp_path, {"STOCKADE_PATH": "k8s", "STOCKADE_FAIL_ON": "critical", "STOCKADE_ARGS": "--skip-rules WL-001"}
    )
    assert result.returncode == 0, result.stderr
    failures = junit_failures(workspace / "stockade-junit.xml")
    assert "stockade.WL-002" in failures and "stockade.WL-001" not in failures
