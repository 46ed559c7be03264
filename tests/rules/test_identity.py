"""SA and NS rules: which ServiceAccount pods run as, token automount, and the default namespace."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Finding, Severity, Status
from stockade.model.result import ScanResult
from stockade.rules import load_rules
from tests.helpers import inventory_from_raw

RULES = load_rules()
IMAGE = "registry.example.com/shop/api:2.3.1"


def scan(rule_id: str, *objects: dict[str, Any]) -> ScanResult:
    result = evaluate(inventory_from_raw(objects), [RULES[rule_id]])
    assert not [f for f in result.findings if f.status is Status.ERROR], result.findings
    return result


def failures(rule_id: str, *objects: dict[str, Any]) -> list[Finding]:
    return scan(rule_id, *objects).failed


def pod(name: str = "api", namespace: str | None = "shop", **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "c", "image": IMAGE}], **spec},
    }


def deployment(name: str = "api", namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": IMAGE}], **spec},
            },
        },
    }


def service_account(name: str, namespace: str | None = "shop", **fields: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata, **fields}


def binding(kind: str, name: str, namespace: str | None, subjects: object) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": subjects,
    }


# -- SA-001 ---------------------------------------------------------------------------------------


def test_default_service_account_unset_and_explicit() -> None:
    [unset] = failures("SA-001", deployment())
    assert unset.severity is Severity.MEDIUM
    assert "sets no serviceAccountName" in unset.message
    assert unset.path == "spec.template.spec"
    assert "kubectl create serviceaccount api -n shop" in unset.remediation
    [explicit] = failures("SA-001", deployment(serviceAccountName="default"))
    assert "serviceAccountName: default" in explicit.message
    assert explicit.path == "spec.template.spec.serviceAccountName"


def test_own_service_account_passes() -> None:
    assert failures("SA-001", deployment(serviceAccountName="api")) == []
    assert failures("SA-001", pod(serviceAccount="api")) == [], "the deprecated field still names the account"


def test_default_service_account_with_bindings_is_high() -> None:
    rb = binding("RoleBinding", "grant", "shop", [{"kind": "ServiceAccount", "name": "default", "namespace": "shop"}])
    [finding] = failures("SA-001", pod(), rb)
    assert finding.severity is Severity.HIGH
    assert "RoleBinding/shop/grant" in finding.message


def test_binding_without_subject_namespace_uses_the_binding_namespace() -> None:
    rb = binding("RoleBinding", "grant", "shop", [{"kind": "ServiceAccount", "name": "default"}])
    [finding] = failures("SA-001", pod(), rb)
    assert finding.severity is Severity.HIGH


def test_group_binding_counts() -> None:
    crb = binding("ClusterRoleBinding", "all-sa", None, [{"kind": "Group", "name": "system:serviceaccounts:shop"}])
    [finding] = failures("SA-001", pod(), crb)
    assert finding.severity is Severity.HIGH
    assert "group system:serviceaccounts:shop" in finding.message


def test_bindings_elsewhere_do_not_raise_severity() -> None:
    other = binding(
        "RoleBinding", "grant", "tools", [{"kind": "ServiceAccount", "name": "default", "namespace": "tools"}]
    )
    named = binding("RoleBinding", "api", "shop", [{"kind": "ServiceAccount", "name": "api", "namespace": "shop"}])
    [finding] = failures("SA-001", pod(), other, named)
    assert finding.severity is Severity.MEDIUM


@pytest.mark.parametrize("subjects", ["default", [None, "x", {"kind": 3}], {"kind": "ServiceAccount"}, None])
def test_malformed_binding_subjects_are_ignored(subjects: object) -> None:
    [finding] = failures("SA-001", pod(), binding("RoleBinding", "odd", "shop", subjects))
    assert finding.severity is Severity.MEDIUM


@pytest.mark.parametrize("value", [["api"], 3, "", None])
def test_malformed_service_account_name_reads_as_unset(value: object) -> None:
    assert len(failures("SA-001", pod(serviceAccountName=value))) == 1


# -- SA-002 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [False, "false", "no", "off"])
def test_pod_opt_out_passes(value: object) -> None:
    assert failures("SA-002", pod(automountServiceAccountToken=value)) == []


def test_pod_true_wins_over_account_false() -> None:
    account = service_account("api", automountServiceAccountToken=False)
    [finding] = failures("SA-002", pod(serviceAccountName="api", automountServiceAccountToken=True), account)
    assert "sets automountServiceAccountToken: true" in finding.message
    assert finding.path == "spec.automountServiceAccountToken"
    assert '"automountServiceAccountToken":false' in finding.remediation


def test_account_false_covers_pods_that_leave_it_unset() -> None:
    account = service_account("api", automountServiceAccountToken=False)
    assert failures("SA-002", pod(serviceAccountName="api"), account) == []
    assert failures("SA-002", deployment(serviceAccountName="api"), account) == []


def test_account_not_in_scan() -> None:
    [finding] = failures("SA-002", pod(serviceAccountName="api"))
    assert 'ServiceAccount "api" is not in the scan' in finding.message


def test_account_without_opt_out() -> None:
    [finding] = failures("SA-002", pod(serviceAccountName="api"), service_account("api"))
    assert 'neither the pod nor its ServiceAccount "api"' in finding.message


def test_account_in_another_namespace_does_not_count() -> None:
    account = service_account("api", namespace="tools", automountServiceAccountToken=False)
    assert len(failures("SA-002", pod(serviceAccountName="api"), account)) == 1


def test_unset_namespaces_meet_in_default() -> None:
    account = service_account("default", namespace=None, automountServiceAccountToken=False)
    assert failures("SA-002", pod(namespace=None), account) == []


def test_default_account_is_looked_up_when_no_name_is_set() -> None:
    account = service_account("default", automountServiceAccountToken=False)
    assert failures("SA-002", pod(), account) == []


# -- SA-003 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "fires"), [(False, False), ("no", False), (None, True), (True, True), ("yes", True)])
def test_account_automount(value: object, fires: bool) -> None:
    fields = {} if value is None else {"automountServiceAccountToken": value}
    found = failures("SA-003", service_account("api", **fields))
    assert bool(found) is fires
    if found:
        assert "kubectl patch serviceaccount api -n shop" in found[0].remediation
        assert found[0].path == ("automountServiceAccountToken" if value is not None else "")


# -- NS-001 ---------------------------------------------------------------------------------------


def test_explicit_default_namespace() -> None:
    [finding] = failures("NS-001", deployment(namespace="default"))
    assert finding.message == "Deployment is in the default namespace"
    assert finding.path == "metadata"  # same as a defaulted namespace: one fingerprint for file and cluster


def test_unset_namespace() -> None:
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {}}
    [finding] = failures("NS-001", configmap)
    assert "no namespace set; it lands in the default namespace unless applied with -n" in finding.message
    assert finding.resource.namespace == "default"


def test_other_namespaces_pass() -> None:
    result = scan("NS-001", deployment(), pod(), service_account("api"))
    assert result.failed == []
    assert result.passes.by_rule["NS-001"] == 3


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "default"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": "default"}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": "default-token-abcde",
                "namespace": "default",
                "annotations": {"kubernetes.io/service-account.name": "default"},
            },
        },
    ],
)
def test_built_in_default_objects_are_not_reported(obj: dict[str, Any]) -> None:
    assert failures("NS-001", obj) == []


def test_owned_objects_are_reported_through_their_owner() -> None:
    owner = deployment(name="web", namespace="default")
    replica_set = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-5d9c",
            "namespace": "default",
            "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": True}],
        },
    }
    [finding] = failures("NS-001", owner, replica_set)
    assert finding.resource.kind == "Deployment"
    # Without its owner in the scan the ReplicaSet is what a person sees, so it is reported.
    [orphan] = failures("NS-001", replica_set)
    assert orphan.resource.kind == "ReplicaSet"


def test_cluster_scoped_and_other_kinds_are_not_judged() -> None:
    cluster_role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}
    result = scan("NS-001", cluster_role, namespace)
    assert result.findings == []
    assert result.passes.by_rule == {}


def test_malformed_owner_references_do_not_error() -> None:
    obj = deployment(namespace="default")
    obj["metadata"]["ownerReferences"] = ["x", {"controller": True, "kind": 3}]
    assert len(failures("NS-001", obj)) == 1
