"""``stockade rbac …`` end to end: YAML files on disk, the real parser, output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.cli.main import main

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"

SHOP = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: shop}
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, list, create, update]
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-deployer, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
  - {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: Group, name: auditors, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: oncall-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
  - {kind: User, name: jane@example.com, apiGroup: rbac.authorization.k8s.io}
"""

DANGLING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: leftover, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: removed-role}
subjects:
  - {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
"""


@pytest.fixture
def shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    return str(path)


@pytest.fixture
def dangling(tmp_path: Path) -> str:
    path = tmp_path / "dangling.yaml"
    path.write_text(DANGLING)
    return str(path)


def stockade(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["rbac", *argv, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def as_json(text: str) -> Any:
    return json.loads(text)


# -- who-can -----------------------------------------------------------------------------------
def test_who_can_table(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, err = stockade(capsys, "who-can", "create", "deployments", "-n", "shop", shop)
    assert code == 0
    assert "Who can create deployments.apps in namespace shop" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("ServiceAccount", "User"))]
    assert rows[0][:6] == [
        "ServiceAccount",
        "deployer",
        "ci",
        "RoleBinding/shop/ci-deployer",
        "Role/shop/deployer",
        "rules[0]",
    ]
    assert rows[1][:2] == ["User", "jane@example.com"] and "ClusterRole/edit" in " ".join(rows[1])
    assert "system:masters can too" in out
    assert "ClusterRole/edit is not among the objects read" in err


def test_who_can_json_and_kubectl_resource_forms(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    for resource in ("deployments.apps", "deploy"):
        code, out, _ = stockade(capsys, "who-can", "update", resource, "-n", "shop", "-f", "json", shop)
        assert code == 0
        data = as_json(out)
        assert data["request"] == {
            "verb": "update",
            "resource": "deployments",
            "subresource": "",
            "api_group": "apps",
            "name": "",
            "namespace": "shop",
        }
        first = data["subjects"][0]
        assert (first["kind"], first["name"], first["namespace"]) == ("ServiceAccount", "deployer", "ci")
        assert first["binding"] == {"kind": "RoleBinding", "namespace": "shop", "name": "ci-deployer"}
        assert first["role"]["name"] == "deployer" and first["rule_index"] == 0
        assert data["superuser_groups"] == ["system:masters"]


def test_who_can_without_namespace_asks_cluster_wide(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "who-can", "list", "pods", shop)
    assert code == 0
    assert "ClusterRoleBindings only" in out
    assert "auditors" in out and "deployer" not in out


def test_who_can_subresource_and_name(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(
        capsys, "who-can", "create", "pods/exec", "--name", "web-0", "-n", "shop", "-f", "json", shop
    )
    assert code == 0
    assert [s["name"] for s in as_json(out)["subjects"]] == ["jane@example.com"]


def test_missing_role_is_a_warning_and_exit_3(capsys: pytest.CaptureFixture[str], shop: str, dangling: str) -> None:
    code, out, err = stockade(capsys, "who-can", "get", "secrets", "-n", "shop", shop, dangling)
    assert code == 3
    assert "stockade: warning:" in err and "Role/shop/removed-role does not exist" in err and "dangling.yaml" in err
    assert "deployer" in out


def test_unreadable_input_is_exit_3(capsys: pytest.CaptureFixture[str], shop: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: Role\nmetadata: {name: [unclosed\n")
    code, _, err = stockade(capsys, "who-can", "get", "pods", shop, str(broken))
    assert code == 3 and "broken.yaml" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    with pytest.raises(SystemExit) as bad_subject:
        stockade(capsys, "can-i", "robot:x", "get", "pods", shop)
    assert bad_subject.value.code == 2
    assert "cannot read subject 'robot:x'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as no_input:
        stockade(capsys, "who-can", "get", "pods")
    assert no_input.value.code == 2


# -- can-i -------------------------------------------------------------------------------------
def test_can_i_yes_with_the_reason(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "can-i", "sa:ci:deployer", "get", "secrets", "-n", "shop", shop)
    assert code == 0
    assert out.startswith("yes: ServiceAccount/ci/deployer can get secrets in namespace shop")
    assert "RoleBinding/shop/ci-deployer → Role/shop/deployer rules[1]" in out


def test_can_i_no(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "can-i", "sa:ci:deployer", "delete", "deployments", "-n", "shop", shop)
    assert code == 1
    assert out.startswith("no: ")


def test_can_i_with_idp_groups_and_json(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    argv = ("can-i", "user:carol", "list", "configmaps", "-n", "shop", "-f", "json", shop)
    code, out, _ = stockade(capsys, *argv)
    assert code == 1 and as_json(out)["allowed"] is False
    code, out, _ = stockade(capsys, *argv, "--groups", "auditors,staff")
    data = as_json(out)
    assert code == 0 and data["allowed"] is True
    assert data["groups"] == ["system:authenticated", "auditors", "staff"]
    assert data["grants"][0]["binding"]["name"] == "auditors-view"


def test_can_i_keeps_its_answer_when_there_are_problems(
    capsys: pytest.CaptureFixture[str], shop: str, dangling: str
) -> None:
    code, out, err = stockade(capsys, "can-i", "user:bob", "get", "pods", "-n", "shop", shop, dangling)
    assert code == 1 and out.startswith("no: ")
    assert "removed-role does not exist" in out and "removed-role" in err


def test_can_i_system_masters(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "can-i", "group:system:masters", "delete", "nodes", shop)
    assert code == 0 and "system:masters" in out


# -- explain -----------------------------------------------------------------------------------
def test_explain_groups_by_namespace_and_flags_dangers(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "explain", "user:jane@example.com", shop)
    assert code == 0
    assert "Namespace shop:" in out and "Cluster-wide:" not in out
    assert " !! " in out and "danger: read Secrets" in out and "danger: run commands in existing pods" in out
    code, out, _ = stockade(capsys, "explain", "sa:ci:deployer", shop, "-f", "json")
    data = as_json(out)
    [namespace] = data["namespaces"]
    assert namespace["namespace"] == "shop"
    dangers = [d["danger"] for p in namespace["permissions"] for d in p["dangers"]]
    assert dangers == ["create-workloads", "read-secrets"]
    assert data["groups"] == ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]


def test_explain_cluster_wide_first(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "explain", "user:jane@example.com", "--groups", "auditors", shop)
    assert code == 0
    assert "(groups: system:authenticated, auditors)" in out
    assert 0 < out.index("Cluster-wide:") < out.index("Namespace shop:")


def test_explain_shows_everything_as_one_danger(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = stockade(capsys, "explain", "sa:payments:deployer", str(DEMO))
    assert code == 0
    assert "danger: do everything" in out and "danger: read Secrets" not in out


# -- matrix ------------------------------------------------------------------------------------
def test_matrix_table_and_legend(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "matrix", "-n", "shop", shop)
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("SUBJECT"))
    columns = header.split()
    row = next(line.split() for line in out.splitlines() if line.startswith("ServiceAccount/ci/deployer"))
    cells = dict(zip(columns, row, strict=True))
    assert cells["deployments"] == "CRLU" and cells["secrets"] == "R" and cells["pods"] == "-"
    assert "Legend: C create, R get (read one), L list" in out


def test_matrix_json_cluster_wide(capsys: pytest.CaptureFixture[str], shop: str) -> None:
    code, out, _ = stockade(capsys, "matrix", "-f", "json", shop)
    data = as_json(out)
    assert code == 0 and data["namespace"] is None
    assert [r["subject"]["name"] for r in data["rows"]] == ["auditors"]
    assert data["rows"][0]["cells"]["pods"] == "RLW" and data["rows"][0]["cells"]["secrets"] == ""
    assert data["legend"]["E"] == "escalate"


# -- privileged --------------------------------------------------------------------------------
def test_privileged_on_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = stockade(capsys, "privileged", str(DEMO))
    assert code == 0
    assert "Stage reached: crawl" in out and "Next stage: walk" in out
    assert "ServiceAccount  deployer" in out
    assert "missing: ServiceAccount/payments/deployer is an everyday automation account" in out
    code, out, _ = stockade(capsys, "privileged", str(DEMO), "-f", "json")
    data = as_json(out)
    assert data["stage"] == "crawl" and data["next_stage"] == "walk"
    deployer = next(h for h in data["holders"] if h["name"] == "deployer")
    assert deployer["direct"] is True and deployer["system"] is False
    assert deployer["routes"][0]["grants"][0]["binding"]["name"] == "payments-deployer-admin"


def test_privileged_nothing_to_judge(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "cm.yaml"
    empty.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\n")
    code, out, _ = stockade(capsys, "privileged", str(empty), "-f", "json")
    data = as_json(out)
    assert code == 0 and data["stage"] is None
    assert "nothing to judge" in data["missing"][0]


# -- live cluster ------------------------------------------------------------------------------
def test_live_cluster_answers_like_the_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import yaml

    from stockade.testing import FakeApiServer

    objects = [
        d
        for path in sorted(DEMO.rglob("*.yaml"))
        if path.name != "exceptions.yaml"
        for d in yaml.safe_load_all(path.read_text())
        if d
    ]
    with FakeApiServer(objects, tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        code, out, _ = stockade(
            capsys, "who-can", "list", "secrets", "-n", "payments", "--kubeconfig", kubeconfig, "-f", "json"
        )
        assert code == 0
        live = {(s["kind"], s["name"], s["binding"]["name"]) for s in as_json(out)["subjects"]}
        code, out, _ = stockade(capsys, "privileged", "--kubeconfig", kubeconfig, "-f", "json")
        assert code == 0 and as_json(out)["stage"] == "crawl"
    _, out, _ = stockade(capsys, "who-can", "list", "secrets", "-n", "payments", str(DEMO), "-f", "json")
    assert live == {(s["kind"], s["name"], s["binding"]["name"]) for s in as_json(out)["subjects"]}
    assert ("ServiceAccount", "deployer", "payments-deployer-admin") in live
