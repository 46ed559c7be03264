"""What NS-001 says, where an unset namespace lands, and what it does not judge."""

from __future__ import annotations

from stockade.model.finding import Status
from tests.helpers import scan_text


def test_explicit_and_unset_default_namespace() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: explicit, namespace: default}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unset}\n"
    )
    result = scan_text(text, ["NS-001"])
    explicit, unset = sorted(result.findings, key=lambda f: f.resource.name)
    assert explicit.message == "ConfigMap is in the default namespace"
    assert unset.message == "ConfigMap has no namespace set; it lands in the default namespace unless applied with -n"
    # The same namespace and path either way: a manifest and the object a cluster returns share a fingerprint.
    assert unset.resource.namespace == explicit.resource.namespace == "default"
    assert unset.path == explicit.path == "metadata"


def test_cluster_scoped_and_other_kinds_are_neither_failed_nor_passed() -> None:
    text = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\n"
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: limits, namespace: default}\n"
    )
    result = scan_text(text, ["NS-001"], include_passed=True)
    assert [f for f in result.findings if f.status is not Status.PASS] == []
    assert result.passes.by_rule == {}
