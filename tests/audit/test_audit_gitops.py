"""AD-013 from the command line: GitOps namespaces and operator identities found in a cluster (the
fake API server, real client) or a snapshot, or named; the writes the operators make spared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from stockade.cli.main import main
from stockade.testing import FakeApiServer

ARGO_APP = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "shop", "namespace": "gitops"},
    "spec": {"destination": {"namespace": "shop", "server": "https://kubernetes.default.svc"}},
}
ARGO_CONTROLLER = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "argocd-application-controller", "namespace": "gitops"},
    "spec": {"template": {"spec": {"serviceAccountName": "argo-sync", "containers": [{"name": "c", "image": "i"}]}}},
}
FLUX = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "payments", "namespace": "flux-system"},
    "spec": {"targetNamespace": "payments", "serviceAccountName": "payments-deployer"},
}
CLUSTER = [ARGO_APP, ARGO_CONTROLLER, FLUX]


def _write(number: int, user: str, namespace: str, agent: str = "kubectl/v1.31.2") -> dict[str, Any]:
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": f"id-{number}",
        "stage": "ResponseComplete",
        "verb": "patch",
        "requestURI": f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        "user": {"username": user, "groups": ["system:authenticated"]},
        "userAgent": agent,
        "sourceIPs": ["10.0.0.5"],
        "objectRef": {"resource": "deployments", "namespace": namespace, "name": "web", "apiGroup": "apps"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": f"2026-12-05T10:00:{number:02d}Z",
    }


LOG = [
    _write(1, "dave@example.com", "shop"),  # a person, by hand
    _write(2, "system:serviceaccount:gitops:argo-sync", "shop", "argocd-application-controller/v2.13.1"),
    _write(3, "system:serviceaccount:flux-system:payments-deployer", "payments", "kustomize-controller/v1.4.0"),
    _write(4, "system:serviceaccount:ci:deployer", "payments"),  # a CI job's kubectl
    _write(5, "dave@example.com", "search"),  # not a GitOps namespace
]
FLAGGED = {"id-1", "id-4"}


@pytest.fixture
def log(tmp_path: Path) -> str:
    path = tmp_path / "audit.log"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in LOG))
    return str(path)


def _flagged(capsys: pytest.CaptureFixture[str]) -> set[str]:
    out = json.loads(capsys.readouterr().out)
    return {d["auditID"] for d in out["detections"] if d["id"] == "AD-013"}


def test_found_in_the_live_cluster(log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeApiServer(CLUSTER, tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        assert main(["audit", "scan", log, "--kubeconfig", kubeconfig, "-f", "json"]) == 1
    captured = capsys.readouterr()
    assert "GitOps-managed namespaces: payments, shop" in captured.err
    found = json.loads(captured.out)["detections"]
    assert {d["auditID"] for d in found if d["id"] == "AD-013"} == FLAGGED
    detail = next(d["detail"] for d in found if d["auditID"] == "id-1")
    assert detail == (
        "dave@example.com patch deployments/shop/web with kubectl/v1.31.2, outside Argo CD Application gitops/shop"
    )


def test_found_in_a_snapshot_and_the_same(log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeApiServer(CLUSTER, tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        snapshot = str(tmp_path / "s.json")
        assert main(["snapshot", "--no-progress", "--kubeconfig", kubeconfig, "-o", snapshot]) == 0
    capsys.readouterr()
    assert main(["audit", "scan", log, "--snapshot", snapshot, "-f", "json"]) == 1
    assert _flagged(capsys) == FLAGGED


def test_a_cluster_without_operators_has_no_gitops_namespaces(
    log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeApiServer([ARGO_CONTROLLER], tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        assert main(["audit", "scan", log, "--kubeconfig", kubeconfig, "-f", "json"]) == 0
    captured = capsys.readouterr()
    assert "GitOps-managed namespaces: none" in captured.err
    assert json.loads(captured.out)["detections"] == []


def test_named_namespaces_and_operators(log: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "scan", log, "--gitops-namespace", "shop", "-f", "json"]) == 1
    assert _flagged(capsys) == {"id-1"}  # payments is not named
    argv = ["audit", "scan", log, "--gitops-namespace", "shop", "--gitops-namespace", "payments", "-f", "json"]
    assert main(argv) == 1
    assert _flagged(capsys) == FLAGGED
    # A pipeline the team declares an operator (it deploys from git with kubectl) is spared.
    assert main([*argv, "--gitops-operator", "system:serviceaccount:ci:deployer"]) == 1
    assert _flagged(capsys) == {"id-1"}


def test_one_place_to_read_them_from(log: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "scan", log, "--cluster", "--snapshot", "s.json"])
    assert exited.value.code == 2
    assert "a cluster or --snapshot" in capsys.readouterr().err
