"""Objects declared more than once across files (two overlays, two environments): each is judged.

A later namesake must not hide an earlier definition: every Role, ClusterRole and binding
definition is evaluated, a roleRef resolves to every definition of its role (the message names
them and the one behind the verdict), and every command that reads manifests says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import stockade
from stockade.cli.main import main
from stockade.model.finding import Status
from tests.vendored import CORPUS

WILDCARD = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops}
subjects:
  - {kind: Group, name: staging-ops}
"""

BENIGN = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops}
subjects:
  - {kind: Group, name: prod-ops}
"""


@pytest.fixture
def overlays(tmp_path: Path) -> tuple[str, str]:
    """The dangerous definitions in a.yaml, benign namesakes in b.yaml (read after it)."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(WILDCARD)
    b.write_text(BENIGN)
    return str(a), str(b)


def notice(kind_name: str, a: str, b: str, line: int) -> str:
    return f"{kind_name}: defined 2 times ({a}:{line}, {b}:{line}); a cluster keeps only one of them, so each one is checked"


def test_a_later_benign_namesake_does_not_hide_a_wildcard_role(overlays: tuple[str, str]) -> None:
    a, b = overlays
    result = stockade.scan([stockade.FileSource([a, b])], stockade.ScanOptions(rules=["RB-001", "RB-002"]))
    failed = {(f.rule_id, f.location.file, f.location.line): f for f in result.findings if f.status is Status.FAIL}
    assert sorted(failed) == [("RB-001", a, 12), ("RB-001", b, 12), ("RB-002", a, 5)]
    # The wildcard rule is granted through both binding definitions, to both groups.
    wildcard = failed[("RB-002", a, 5)].message
    assert "Group/staging-ops, Group/prod-ops" in wildcard
    assert f"ClusterRole/ops is defined 2 times ({a}:1, {b}:1), this verdict from {a}:1" in wildcard
    # Each binding is resolved against both definitions of the role: the full-access one decides.
    for file, group in ((a, "staging-ops"), (b, "prod-ops")):
        message = failed[("RB-001", file, 12)].message
        assert f"makes Group/{group} administrators of the whole cluster" in message
        assert f"this verdict from {a}:1" in message
    assert result.notices == [
        notice("ClusterRole/ops", a, b, 1),
        notice("ClusterRoleBinding/ops", a, b, 9),
    ]


def test_the_same_name_in_two_namespaces_is_no_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(
        "\n---\n".join(
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: reader, namespace: {ns}}}\n"
            "rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]"
            for ns in ("a", "b")
        )
    )
    result = stockade.scan([stockade.FileSource([str(path)])], stockade.ScanOptions(run_rules=False))
    assert result.notices == []


def test_scan_json_lists_the_duplicates(
    overlays: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = overlays
    assert main(["scan", str(tmp_path), "-f", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["notices"] == [notice("ClusterRole/ops", a, b, 1), notice("ClusterRoleBinding/ops", a, b, 9)]


def test_rbac_commands_warn_in_the_same_words(
    overlays: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = overlays
    assert main(["rbac", "who-can", "delete", "nodes", str(tmp_path)]) == 3
    captured = capsys.readouterr()
    assert f"stockade: warning: {notice('ClusterRole/ops', a, b, 1)} [duplicate-object]\n" in captured.err
    # Both groups hold it: each binding definition with the full-access definition of the role.
    assert "staging-ops" in captured.out
    assert "prod-ops" in captured.out


def test_pss_evaluate_notes_the_duplicate_and_evaluates_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pods = tmp_path / "pods.yaml"
    pods.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
        "spec: {containers: [{name: c, image: nginx}]}\n"
        "---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
        "spec: {containers: [{name: c, image: nginx, securityContext: {privileged: true}}]}\n"
    )
    assert main(["pss", "evaluate", "--level", "baseline", "-f", "json", str(pods)]) == 1
    captured = capsys.readouterr()
    verdicts = [json.loads(line) for line in captured.out.splitlines()]
    assert [(v["line"], v["allowed"]) for v in verdicts] == [(1, True), (6, False)]
    assert f"stockade: note: Pod/shop/web: defined 2 times ({pods}:1, {pods}:6)" in captured.err


def test_real_world_corpus_judges_both_prometheus_adapter_roles() -> None:
    # kube-prometheus and the vLLM HPA example both declare ClusterRole/prometheus-adapter; the
    # example is read later and used to replace kube-prometheus' role unseen.
    kube = str(CORPUS / "kube-prometheus" / "prometheusAdapter-clusterRole.yaml")
    vllm = str(CORPUS / "kubernetes-examples" / "AI" / "vllm-deployment" / "hpa" / "prometheus-adapter.yaml")
    result = stockade.scan(
        [stockade.FileSource([str(CORPUS)])], stockade.ScanOptions(rules=["RB-002"], include_passed=True)
    )
    judged = {
        (f.location.file, f.status) for f in result.findings if f.resource.display == "ClusterRole/prometheus-adapter"
    }
    assert judged == {(kube, Status.PASS), (vllm, Status.FAIL)}
    assert f"ClusterRole/prometheus-adapter: defined 2 times ({kube}:1, {vllm}:15)" in "\n".join(result.notices)
