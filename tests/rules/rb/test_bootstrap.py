"""Kubernetes' own bindings are recognised by exact name, role and subjects; nothing a file can claim excuses a grant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.rbac.defaults import BOOTSTRAP_BINDINGS, bootstrap_binding

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
