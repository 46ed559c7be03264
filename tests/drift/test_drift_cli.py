"""`stockade drift` against the fake API server (the real kubernetes client over HTTPS) and a snapshot.

The live objects (tests/data/drift/cluster.yaml) carry what a real API server adds after
`kubectl apply -k`: defaults owned by no field manager, status, controller bookkeeping, derived
objects. None of that may count as drift; the three hand changes planted there must.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from stockade.cli.main import main
from stockade.testing import FakeApiServer

DATA = Path(__file__).resolve().parents[1] / "data" / "drift"
GIT = DATA / "git"
LIVE = [d for d in yaml.safe_load_all((DATA / "cluster.yaml").read_text()) if d]
# Values of the Secret on both sides: none may be printed in any format.
SECRET_VALUES = (
    "git-side-password-value",
    "Y2x1c3Rlci1zaWRlLXBhc3N3b3JkLXZhbHVl",
    "cluster-side-password-value",
    "bGl2ZS10b2tlbi1uZXZlci10by1iZS1zaG93bg==",
    "live-token-never-to-be-shown",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with FakeApiServer(LIVE, tls=True, token="t0ken") as server:
        yield server.kubeconfig(tmp_path_factory.mktemp("drift") / "kubeconfig")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["drift", "--no-progress", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _states(document: dict[str, Any]) -> dict[str, str]:
    return {o["object"]: o["state"] for o in document["objects"]}


def test_live_cluster_drift_is_the_planted_hand_changes(cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run([str(GIT), "--kubeconfig", str(cluster), "-f", "json"], capsys)
    assert code == 1, err
    document = json.loads(out)
    assert _states(document) == {
        "ConfigMap/shop/debug-tools": "extra",
        "ConfigMap/shop/web-config": "changed",
        "Deployment.apps/shop/web": "changed",
        "Deployment.apps/shop/worker": "missing",
        "Secret/shop/web-credentials": "changed",
    }
    # The Service and the Namespace carry only server defaults (clusterIP, sessionAffinity, the
    # metadata.name label…) beyond git's fields: in sync.
    assert document["summary"] == {"missing": 1, "extra": 1, "changed": 3, "in-sync": 2}
    assert document["namespaces"] == ["shop"]
    by_object = {o["object"]: o for o in document["objects"]}
    web = by_object["Deployment.apps/shop/web"]
    assert web["basis"] == "managedFields"
    assert web["changes"] == [
        {
            "field": "spec.template.spec.containers[name=web].env[name=DEBUG]",
            "cluster": {"name": "DEBUG", "value": "1"},
            "managers": ["kubectl-edit"],
        },
        {
            "field": "spec.template.spec.containers[name=web].image",
            "git": "registry.example.com/shop/web:1.4",
            "cluster": "registry.example.com/shop/web:1.4-debug",
            "managers": ["kubectl-edit"],
        },
    ]
    config = by_object["ConfigMap/shop/web-config"]
    assert config["basis"] == "last-applied-configuration"
    assert config["changes"] == [{"field": "data.feature", "cluster": "beta"}]
    secret = by_object["Secret/shop/web-credentials"]
    assert [c["field"] for c in secret["changes"]] == ["data.api-token"]
    assert by_object["Deployment.apps/shop/worker"]["origin"].endswith("worker.yaml:1")
    for value in SECRET_VALUES:
        assert value not in out


def test_a_snapshot_gives_the_same_answer_as_the_live_cluster(
    cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "live.json.gz"
    assert main(["snapshot", "--no-progress", "--kubeconfig", str(cluster), "-o", str(snapshot)]) == 0
    capsys.readouterr()
    live = _run([str(GIT), "--kubeconfig", str(cluster), "-f", "json"], capsys)
    offline = _run([str(GIT), "--snapshot", str(snapshot), "-f", "json"], capsys)
    assert live[0] == offline[0] == 1
    assert json.loads(live[1]) == json.loads(offline[1])


def test_table_and_diff_show_the_changes_and_never_a_secret_value(
    cluster: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, table, _ = _run([str(GIT), "--kubeconfig", str(cluster)], capsys)
    assert code == 1
    assert "missing  Deployment.apps/shop/worker  in git (" in table
    assert "(set by kubectl-edit) [managedFields]" in table
    assert "1 missing from the cluster, 1 not in git, 3 changed, 2 in sync" in table
    code, diff, _ = _run([str(GIT), "--kubeconfig", str(cluster), "-f", "diff"], capsys)
    assert code == 1
    assert "--- git/Deployment.apps/shop/web\n+++ cluster/Deployment.apps/shop/web\n" in diff
    assert "-        image: registry.example.com/shop/web:1.4\n" in diff
    assert "+        image: registry.example.com/shop/web:1.4-debug\n" in diff
    assert "+        - name: DEBUG\n" in diff
    # 0.5 CPU in git is 500m in the cluster: the same amount, no change line.
    assert "cpu" not in "".join(line for line in diff.splitlines(keepends=True) if line[:1] in "+-")
    assert "--- git/Deployment.apps/shop/worker\n+++ /dev/null\n" in diff
    assert "--- /dev/null\n+++ cluster/ConfigMap/shop/debug-tools\n" in diff
    assert "+  api-token: (value not read)\n" in diff
    # Server defaults are not in the diff at all, not even as context.
    for default in ("imagePullPolicy", "terminationMessagePath", "clusterIP", "revisionHistoryLimit", "status"):
        assert default not in diff
    for text in (table, diff):
        for value in SECRET_VALUES:
            assert value not in text


def test_held_namespaces_and_ignored_managers(cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(GIT), "--kubeconfig", str(cluster), "-f", "json"]
    held = json.loads(_run([*argv, "--held-namespace", "billing"], capsys)[1])
    assert _states(held)["ConfigMap/billing/settings"] == "extra"
    assert held["namespaces"] == ["billing", "shop"]
    ignored = json.loads(_run([*argv, "--ignore-manager", "kubectl-edit"], capsys)[1])
    web = next(o for o in ignored["objects"] if o["object"] == "Deployment.apps/shop/web")
    # The env var only kubectl-edit set is no longer compared; the image git sets still is.
    assert [c["field"] for c in web["changes"]] == ["spec.template.spec.containers[name=web].image"]


def test_a_tree_that_matches_the_cluster_has_no_drift(
    cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "git"
    tree.mkdir()
    (tree / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\n"
        "resources: [namespace.yaml, service.yaml]\n"
    )
    shutil.copy(GIT / "namespace.yaml", tree / "namespace.yaml")
    (tree / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n"
    )
    # The same cluster without the hand changes and the objects this tree leaves out, but with
    # every server default and every object Kubernetes makes by itself.
    left_out = {"web-config", "web-credentials", "debug-tools", "settings"}
    same = [d for d in LIVE if d["metadata"]["name"] not in left_out and d["kind"] != "Deployment"]
    with FakeApiServer(same, tls=True, token="t0ken") as server:
        kubeconfig = str(server.kubeconfig(tmp_path / "kubeconfig"))
        code, out, err = _run([str(tree), "--kubeconfig", kubeconfig, "-f", "json"], capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["summary"] == {"missing": 0, "extra": 0, "changed": 0, "in-sync": 2}
    code, out, err = _run([str(tree), "--kubeconfig", str(cluster), "-f", "json"], capsys)
    assert (code, err) == (1, "")  # the full cluster runs more in shop than this tree holds
    assert json.loads(out)["summary"] == {"missing": 0, "extra": 4, "changed": 0, "in-sync": 2}
    # Read in shop only (as someone whose RBAC covers only shop): the Namespace is not compared.
    code, out, err = _run([str(tree), "--kubeconfig", str(cluster), "-f", "json", "--namespaces", "shop"], capsys)
    document = json.loads(out)
    assert document["not_compared"] == ["Namespace/shop"]
    assert document["summary"] == {"missing": 0, "extra": 4, "changed": 0, "in-sync": 1}


def test_unreadable_git_files_are_named_and_the_rest_is_compared(
    cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "git"
    shutil.copytree(GIT, tree)
    (tree / "kustomization.yaml").unlink()
    (tree / "broken.yaml").write_text("kind: ConfigMap\nmetadata: {name: [unclosed\n")
    code, out, err = _run([str(tree), "--kubeconfig", str(cluster), "-f", "json"], capsys)
    assert code == 3
    assert "broken.yaml" in err
    assert "Traceback" not in err
    document = json.loads(out)
    assert document["problems"] and "broken.yaml" in document["problems"][0]
    # Without kustomize's namespace the objects land in "default", where the cluster has none.
    assert _states(document)["Deployment.apps/default/web"] == "missing"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --cluster, --context or --kubeconfig, or --snapshot"),
        (["--cluster", "--snapshot", "x.json"], "give --cluster, --context or --kubeconfig, or --snapshot"),
        (["--snapshot", "x.json", "--namespaces", "shop"], "--namespaces selects what to read"),
    ],
)
def test_usage_errors(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["drift", str(GIT), *extra])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
