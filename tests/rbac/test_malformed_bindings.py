"""A binding the API server rejects by shape (``roleRef: cluster-admin``) is an error in every
``stockade rbac`` command, can-i included: it could have changed the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.main import main

STRING_ROLE_REF = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-admin}
roleRef: cluster-admin
subjects:
  - {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
"""


def rbac(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["rbac", *argv, "--no-progress"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (STRING_ROLE_REF, "roleRef is 'cluster-admin', not an object (apiGroup, kind, name)"),
        (STRING_ROLE_REF.replace("roleRef: cluster-admin", "roleRef: [cluster-admin]"), "roleRef is ['cluster-admin']"),
        (
            STRING_ROLE_REF.replace(
                "roleRef: cluster-admin", "roleRef: {kind: ClusterRole, name: cluster-admin}"
            ).replace("subjects:\n  - ", "subjects: "),
            "subjects is {'kind': 'User', 'name': 'alice', 'ap..., not a list; the binding applies to no one",
        ),
    ],
)
def test_can_i_and_privileged_report_a_malformed_binding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    manifest = tmp_path / "binding.yaml"
    manifest.write_text(text)
    code, err = rbac(capsys, "can-i", "user:alice", "delete", "nodes", str(manifest))
    assert code == 3
    assert f"{manifest}:1: ClusterRoleBinding/ops-admin: {message}" in err
    code, err = rbac(capsys, "privileged", str(manifest))
    assert code == 3 and message in err


def test_can_i_keeps_its_answer_for_a_well_formed_binding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    manifest = tmp_path / "binding.yaml"
    fixed = "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}"
    manifest.write_text(STRING_ROLE_REF.replace("roleRef: cluster-admin", fixed))
    code, err = rbac(capsys, "can-i", "user:alice", "delete", "nodes", str(manifest))
    assert code == 0 and "warning" not in err
