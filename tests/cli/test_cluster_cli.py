"""Live clusters end to end: the fake API server, the real kubernetes client, the real CLI."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from stockade.cli.main import main
from stockade.testing import FakeApiServer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"
PLANTED = ("demo-only-not-a-real-password", "planted-S3cr3t-value-4242")


def demo_objects() -> list[dict[str, object]]:
    objects = []
    for path in sorted(DEMO.rglob("*.yaml")):
        if path.name == "exceptions.yaml":
            continue
        objects.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "api-token",
                "namespace": "storefront",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"data": PLANTED[1]})},
            },
            "stringData": {"token": PLANTED[1]},
        }
    )
    return objects


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeApiServer, str]]:
    with FakeApiServer(demo_objects(), tls=True, token="t0ken") as server:
        yield server, str(server.kubeconfig(tmp_path / "kubeconfig"))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def fingerprints(report: dict[str, object]) -> set[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {f["fingerprint"] for f in findings}


def test_cluster_scan_matches_file_scan(cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, kubeconfig = cluster
    code, out, _ = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "-f", "json")
    from_cluster = json.loads(out)
    _, out, _ = run(capsys, "scan", "--no-progress", str(DEMO), "-f", "json")
    from_files = json.loads(out)
    assert code == 1
    assert not from_cluster["errors"]
    # The planted Secret is the one object the files do not have; it adds no finding of its own.
    assert fingerprints(from_cluster) == fingerprints(from_files)
    assert all(f["location"]["file"].startswith("cluster:") for f in from_cluster["findings"])


def test_forbidden_kinds_exit_3_and_name_the_permission(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, kubeconfig = cluster
    server.forbid("secrets", "rolebindings.rbac.authorization.k8s.io")
    code, out, _ = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "-f", "json")
    report = json.loads(out)
    assert code == 3
    messages = [e["message"] for e in report["errors"]]
    assert any('missing RBAC: list on secrets in API group ""' in m for m in messages)
    assert any("rolebindings" in m and "rbac.authorization.k8s.io" in m for m in messages)
    assert report["findings"], "the readable kinds were still scanned"


def test_faults_are_retried_and_the_scan_completes(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, kubeconfig = cluster
    server.inject("/apis/apps/v1/deployments", status=500, times=2)
    server.inject("/api/v1/pods", drop="mid", times=1)
    server.inject("/api/v1/configmaps", status=429, retry_after=0, times=1)
    code, out, _ = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "-f", "json")
    report = json.loads(out)
    assert code == 1 and not report["errors"]
    assert {"node-debug", "api", "hello"} <= {f["resource"]["name"] for f in report["findings"]}


def test_unknown_context_is_a_usage_error(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kubeconfig = cluster
    with pytest.raises(SystemExit) as exc:
        main(["scan", "--kubeconfig", kubeconfig, "--context", "no-such-context"])
    assert exc.value.code == 2
    assert "no-such-context" in capsys.readouterr().err


def test_snapshot_round_trip_keeps_findings_and_no_secret_values(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, kubeconfig = cluster
    snapshot = tmp_path / "cluster.json.gz"
    code, _, err = run(capsys, "snapshot", "--no-progress", "--kubeconfig", kubeconfig, "-o", str(snapshot))
    assert code == 0, err
    assert snapshot.stat().st_mode & 0o777 == 0o600
    raw = gzip.decompress(snapshot.read_bytes()).decode()
    assert "api-token" in raw and "token" in raw
    for value in PLANTED:
        assert value not in raw
    _, out, _ = run(capsys, "scan", "--no-progress", "--snapshot", str(snapshot), "-f", "json")
    _, live, _ = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "-f", "json")
    assert fingerprints(json.loads(out)) == fingerprints(json.loads(live))


def test_snapshot_of_a_partly_forbidden_cluster_still_exits_3(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server, kubeconfig = cluster
    server.forbid("secrets")
    snapshot = tmp_path / "cluster.json"
    assert run(capsys, "snapshot", "--no-progress", "--kubeconfig", kubeconfig, "-o", str(snapshot))[0] == 3
    code, out, _ = run(capsys, "scan", "--no-progress", "--snapshot", str(snapshot), "-f", "json")
    assert code == 3
    assert any("secrets" in e["message"] for e in json.loads(out)["errors"])


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "junit", "markdown", "html"])
def test_no_secret_value_reaches_any_output(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    _, kubeconfig = cluster
    _, out, err = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "-f", fmt, "--include-passed")
    for value in PLANTED:
        assert value not in out and value not in err


def test_kubectl_list_dump_is_a_source(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    objects = [o for o in demo_objects() if o["kind"] != "Secret"]
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    _, out, _ = run(capsys, "scan", "--no-progress", str(dump), "-f", "json")
    _, files, _ = run(capsys, "scan", "--no-progress", str(DEMO), "-f", "json")
    assert fingerprints(json.loads(out)) == fingerprints(json.loads(files))


def test_kinds_selection_limits_the_collection(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, kubeconfig = cluster
    server.reset_stats()
    _, out, _ = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "--kinds", "deploy,svc", "-f", "json")
    kinds = {f["resource"]["kind"] for f in json.loads(out)["findings"]}
    assert kinds <= {"Deployment", "Service", "Namespace"}
    assert "Deployment" in kinds and "Service" in kinds
    listed = {r.path for r in server.requests if r.method == "GET"}
    assert not any(p.endswith("/secrets") for p in listed)


def test_namespace_scoped_access_with_namespaces(
    cluster: tuple[FakeApiServer, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A user whose RBAC is a RoleBinding in one namespace: cluster-wide reads fail, --namespaces works."""
    server, kubeconfig = cluster
    server.confine("storefront")
    code, out, _ = run(capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "-f", "json")
    report = json.loads(out)
    assert code == 3 and not report["findings"]
    assert any("missing RBAC: list on pods" in e["message"] for e in report["errors"])

    code, out, _ = run(
        capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "--namespaces", "storefront", "-f", "json"
    )
    report = json.loads(out)
    assert not report["errors"], report["errors"]
    assert {f["resource"]["namespace"] for f in report["findings"]} == {"storefront"}
    assert "api" in {f["resource"]["name"] for f in report["findings"]}
    assert any("cluster-scoped kinds are not read" in s["reason"] for s in report["skipped_inputs"])
    _, files, _ = run(capsys, "scan", "--no-progress", str(DEMO / "storefront"), str(DEMO / "namespaces"), "-f", "json")
    expected = {f["fingerprint"] for f in json.loads(files)["findings"] if f["resource"]["namespace"] == "storefront"}
    assert fingerprints(report) == expected

    code, out, _ = run(
        capsys, "scan", "--no-progress", "--kubeconfig", kubeconfig, "--namespaces", "storefront,payments", "-f", "json"
    )
    messages = [e["message"] for e in json.loads(out)["errors"]]
    assert code == 3
    assert any("in namespace payments" in m and "missing RBAC" in m for m in messages)
    assert any(m == 'cannot get namespace payments (missing RBAC: get on namespaces in API group "")' for m in messages)


def test_namespaces_needs_a_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["scan", str(DEMO), "--namespaces", "shop"])
    assert exc.value.code == 2
