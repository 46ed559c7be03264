"""The PSS namespace rules beyond what fixtures say: messages, and the one patch a rejected workload gets.
(Which namespaces and workloads fire is in the fixtures under tests/rules/PSS-020…023.)"""

from __future__ import annotations

import json
import shlex
from typing import Any

from stockade.model.finding import Status
from stockade.pss import evaluate_pod, parse_version
from tests.helpers import scan_objects
from tests.pss.pods import apply_patch


def _namespace(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {f"pod-security.kubernetes.io/{k.replace('_', '-')}": v for k, v in labels.items()},
        },
    }


def _deployment(namespace: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"template": {"spec": pod_spec}},
    }


def test_rejected_workload_gets_one_patch_for_every_violated_check() -> None:
    spec = {"hostPID": True, "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]}
    result = scan_objects(
        [_namespace("shop", enforce="restricted", enforce_version="v1.30"), _deployment("shop", spec)], ["PSS-022"]
    )
    (finding,) = [f for f in result.findings if f.status is Status.FAIL]
    assert finding.message.startswith(
        'namespace "shop" enforces Pod Security restricted:v1.30, which would reject this pod at the next rollout;'
        " violated checks: hostNamespaces, privileged"
    )
    patch = json.loads(shlex.split(finding.remediation or "")[-1])
    fixed = apply_patch(_deployment("shop", spec), patch)
    template = fixed["spec"]["template"]
    assert evaluate_pod({}, template["spec"], "restricted", parse_version("v1.30")).allowed


def test_a_bare_pod_is_rejected_if_it_were_created_again() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"hostPID": True, "containers": [{"name": "c", "image": "x"}]},
    }
    result = scan_objects([_namespace("shop", enforce="baseline"), pod], ["PSS-022"])
    (finding,) = [f for f in result.findings if f.status is Status.FAIL]
    assert "would reject this pod if it were created again; violated checks: hostNamespaces" in finding.message


def test_unreadable_labels_are_reported_with_what_the_plugin_uses() -> None:
    result = scan_objects(
        [_namespace("shop", enforce="baseline", enforce_version="1.30", audit="Restricted")], ["PSS-023"]
    )
    messages = sorted(f.message for f in result.findings if f.status is Status.FAIL)
    assert len(messages) == 2
    assert "pod-security.kubernetes.io/audit='Restricted' is not one of privileged, baseline, restricted" in messages[0]
    assert "uses privileged instead" in messages[0]
    assert "enforce-version='1.30' is not 'latest' or 'v1.<minor>'; the admission plugin uses latest" in messages[1]


def test_namespace_messages_say_what_admission_does_and_how_to_fix_it() -> None:
    result = scan_objects([_namespace("bare", warn="restricted"), _namespace("sys", enforce="privileged")])
    by_rule = {f.rule_id: f for f in result.findings if f.status is Status.FAIL}
    assert by_rule["PSS-020"].message.startswith('namespace "bare" has no pod-security.kubernetes.io/enforce label')
    assert by_rule["PSS-020"].remediation == (
        "kubectl label namespace bare pod-security.kubernetes.io/enforce=baseline "
        "pod-security.kubernetes.io/enforce-version=latest"
    )
    assert by_rule["PSS-021"].message == (
        'namespace "sys" enforces the privileged Pod Security level: every pod is admitted'
    )
    assert by_rule["PSS-021"].remediation == (
        "kubectl label --overwrite namespace sys pod-security.kubernetes.io/enforce=baseline"
    )
