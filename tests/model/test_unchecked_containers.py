"""A custom kind with a ``containers`` list but no known pod template gets a notice saying how to check it."""

from __future__ import annotations

import io
import json
from typing import Any

import stockade
from tests.helpers import scan_objects


def _runner(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Runner",
        "metadata": {"name": name, "namespace": "ci"},
        "spec": {"runnerTemplate": {"spec": {"containers": [{"name": "r", "image": "y"}]}}},
    }


WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "build", "namespace": "ci"},
    "spec": {"templates": [{"name": "main", "containerSet": {"containers": [{"name": "a", "image": "x"}]}}]},
}


def test_a_containers_list_outside_a_known_template_is_a_notice_naming_path_and_option() -> None:
    result = scan_objects([_runner("r1"), _runner("r2"), WORKFLOW], ["WL-001"])
    assert result.notices == [
        "Runner/ci/r1 (and 1 more): the containers at spec.runnerTemplate.spec.containers are not checked;"
        " add --pod-template Runner.example.com=spec.runnerTemplate to check them",
        "Workflow/ci/build: the containers at spec.templates[0].containerSet.containers are not checked"
        " (no --pod-template path can name them: they are not in a pod template's spec)",
    ]


def test_the_option_the_notice_names_makes_the_pods_checked() -> None:
    runner = _runner("r1")
    runner["spec"]["runnerTemplate"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    assert scan_objects([runner], ["WL-001"]).findings == []
    checked = stockade.scan(
        [stockade.FileSource(["-"], stdin=io.BytesIO(json.dumps(runner).encode()))],
        stockade.ScanOptions(rules=["WL-001"], pod_templates=["Runner.example.com=spec.runnerTemplate"]),
    )
    assert [f.path for f in checked.findings] == ["spec.runnerTemplate.spec.containers[0].securityContext.privileged"]
    assert checked.notices == []


def test_no_notice_when_no_pod_rule_runs() -> None:
    assert scan_objects([_runner("r1")], ["RB-001"]).notices == []
