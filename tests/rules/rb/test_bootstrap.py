"""Kubernetes' own bindings are recognised by exact name, role and subjects; nothing a file can claim excuses a grant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.model.finding import Status
from stockade.rbac.defaults import BOOTSTRAP_BINDINGS, bootstrap_binding
from tests.helpers import scan_text

SYSTEM_NAMED_ADMIN = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: "system:authenticated-admin"
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}
"""


def test_rbac_privileged_does_not_excuse_a_system_named_binding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "rbac.yaml"
    path.write_text(SYSTEM_NAMED_ADMIN)
    main(["rbac", "privileged", str(path), "-f", "json", "--no-progress"])
    data = json.loads(capsys.readouterr().out)
    assert data["stage"] is None
    holder = next(h for h in data["holders"] if h["name"] == "system:authenticated")
    assert holder["system"] is False


def test_a_bootstrap_entry_needs_its_own_role() -> None:
    key = ("ClusterRoleBinding", None, "cluster-admin")
    assert bootstrap_binding(key, "ClusterRole", "cluster-admin") is BOOTSTRAP_BINDINGS[key]
    assert bootstrap_binding(key, "ClusterRole", "edit") is None
    assert bootstrap_binding(key, "Role", "cluster-admin") is None
    assert bootstrap_binding(("ClusterRoleBinding", None, "system:metrics-helper"), "ClusterRole", "x") is None


EKS_BINDINGS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "eks:podsecuritypolicy:privileged"}
rules:
  - {apiGroups: [policy], resources: [podsecuritypolicies], resourceNames: [eks.privileged], verbs: [use]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "eks:podsecuritypolicy:authenticated"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "eks:podsecuritypolicy:privileged"}
subjects:
  - {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:authenticated"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "eks:node-bootstrapper"}
rules:
  - {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/selfnodeserver], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "eks:node-bootstrapper"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "eks:node-bootstrapper"}
subjects:
  - {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:bootstrappers"}
  - {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:nodes"}
"""

DEFAULT_ACCOUNT_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - {name: api, image: registry.example.com/shop/api:2.3.1}
"""


def test_eks_bindings_as_eks_creates_them_are_stock() -> None:
    result = scan_text(f"{EKS_BINDINGS}---\n{DEFAULT_ACCOUNT_POD}", ["RB-014", "SA-001"])
    assert result.errors == []
    [finding] = [f for f in result.findings if f.status is Status.FAIL]
    # The pod still runs as the default account, but EKS's own grant to every identity is not a grant to it.
    assert (finding.rule_id, finding.severity.value) == ("SA-001", "medium")


def test_eks_binding_names_do_not_excuse_another_subject_or_role() -> None:
    widened = EKS_BINDINGS.replace('name: "system:nodes"}', 'name: "system:serviceaccounts"}')
    result = scan_text(f"{widened}---\n{DEFAULT_ACCOUNT_POD}", ["SA-001"])
    [finding] = [f for f in result.findings if f.status is Status.FAIL]
    assert finding.severity.value == "high"
    assert "ClusterRoleBinding/eks:node-bootstrapper (group system:serviceaccounts)" in finding.message
    key = ("ClusterRoleBinding", None, "eks:podsecuritypolicy:authenticated")
    assert bootstrap_binding(key, "ClusterRole", "eks:podsecuritypolicy:privileged") is BOOTSTRAP_BINDINGS[key]
    assert bootstrap_binding(key, "ClusterRole", "cluster-admin") is None
