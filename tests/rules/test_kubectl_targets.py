"""Remediation commands name the object they fix: a custom kind by its fully qualified resource
(Knative's Service is not the core Service), patched with a JSON patch (custom resources take no
strategic merge, and a merge patch would replace the container list whole)."""

from __future__ import annotations

import io
import shlex
from typing import Any

import orjson
import pytest

import stockade
from stockade.model.finding import Finding, Status
from stockade.sources.files import FileSource

CONTAINERS = """
      containers:
        - {name: sidecar, image: registry.example.com/proxy:1}
        - name: app
          image: registry.example.com/app:1
          securityContext: {privileged: true, runAsNonRoot: true}"""


def carrier(api_version: str, kind: str, template_at: str = "spec:\n  template:\n    spec:") -> str:
    return f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: hello, namespace: shop}}\n{template_at}{CONTAINERS}\n"


def findings(text: str, rules: list[str], pod_templates: tuple[str, ...] = ()) -> dict[str, Finding]:
    result = stockade.scan(
        [FileSource(["-"], stdin=io.BytesIO(text.encode()))],
        stockade.ScanOptions(rules=rules, pod_templates=pod_templates),
    )
    assert result.errors == []
    return {f.rule_id: f for f in result.findings if f.status is Status.FAIL}


def patch_of(command: str) -> tuple[list[str], Any]:
    """The command's words before ``-p``, and the decoded patch."""
    words = shlex.split(command)
    return words[: words.index("-p")], orjson.loads(words[words.index("-p") + 1])


@pytest.mark.parametrize(
    ("api_version", "kind", "resource"),
    [
        ("serving.knative.dev/v1", "Service", "services.serving.knative.dev"),
        ("argoproj.io/v1alpha1", "Rollout", "rollouts.argoproj.io"),
        ("apps.openshift.io/v1", "DeploymentConfig", "deploymentconfigs.apps.openshift.io"),
    ],
)
def test_a_custom_kind_is_named_by_its_qualified_resource_and_json_patched(
    api_version: str, kind: str, resource: str
) -> None:
    found = findings(carrier(api_version, kind), ["WL-001", "SA-002"])
    words, operations = patch_of(found["WL-001"].remediation)
    assert words == ["kubectl", "patch", resource, "hello", "-n", "shop", "--type=json"]
    # Only the field changes, at the container's index, and only if that index still holds "app".
    assert operations == [
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "app"},
        {"op": "add", "path": "/spec/template/spec/containers/1/securityContext/privileged", "value": False},
    ]
    words, operations = patch_of(found["SA-002"].remediation)
    assert words[2] == resource
    assert operations == [{"op": "add", "path": "/spec/template/spec/automountServiceAccountToken", "value": False}]


def test_a_missing_object_is_added_whole() -> None:
    text = carrier("serving.knative.dev/v1", "Service").replace(
        "securityContext: {privileged: true, runAsNonRoot: true}", "securityContext: {runAsNonRoot: true}"
    )
    _, operations = patch_of(findings(text, ["WL-005"])["WL-005"].remediation)
    assert operations[1:] == [
        {
            "op": "add",
            "path": "/spec/template/spec/containers/1/securityContext/capabilities",
            "value": {"drop": ["ALL"]},
        }
    ]


def test_kubernetes_own_kinds_keep_their_short_name_and_strategic_merge() -> None:
    deployment = carrier("apps/v1", "Deployment").replace("spec:\n  template:", "spec:\n  selector: {}\n  template:")
    words, patch = patch_of(findings(deployment, ["WL-001"])["WL-001"].remediation)
    assert words == ["kubectl", "patch", "deployment", "hello", "-n", "shop", "--type=strategic"]
    assert patch == {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "securityContext": {"privileged": False}}]}}}
    }
    # OpenShift 3 served DeploymentConfig in the core group, where kubectl knows it by its kind.
    words, _ = patch_of(findings(carrier("v1", "DeploymentConfig"), ["WL-001"])["WL-001"].remediation)
    assert words[2] == "deploymentconfig"


def test_a_custom_kind_named_like_a_workload_gets_no_kubectl_patch_of_the_workload() -> None:
    text = carrier("example.com/v1", "Deployment")
    found = findings(text, ["PSS-002"], pod_templates=("Deployment.example.com=spec.template",))
    assert found["PSS-002"].remediation.startswith("apply this strategic-merge patch to the Deployment manifest")
