"""The live-cluster source against FakeApiServer over real HTTP(S), through the official client."""

from __future__ import annotations

import base64
import datetime
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from stockade.model.resource import Origin
from stockade.sources.base import SourceResult
from stockade.sources.cluster import RetryPolicy, collect_cluster
from stockade.testing import FakeApiServer
from tests.testing.objects import crd, deployment, obj, pod, secret

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def servers() -> Iterator[list[FakeApiServer]]:
    started: list[FakeApiServer] = []
    yield started
    for server in started:
        server.stop()
        assert server.errors == []


def serve(started: list[FakeApiServer], objects: list[dict[str, Any]], **options: Any) -> FakeApiServer:
    server = FakeApiServer(objects, **options).start()
    started.append(server)
    return server


def identities(result: SourceResult) -> set[tuple[str, str, str | None, str]]:
    return {(r.api_version, r.kind, r.namespace, r.name) for r in result.resources}


def list_requests(server: FakeApiServer, path: str) -> list[str]:
    return [r.query for r in server.requests if r.path == path]


CLUSTER = [
    obj("v1", "Namespace", "shop"),
    pod("web", "shop"),
    deployment("api", "shop"),
    secret("db", "shop", {"password": "pw"}),
    obj("rbac.authorization.k8s.io/v1", "ClusterRole", "reader", rules=[]),
    obj("autoscaling/v1", "HorizontalPodAutoscaler", "api", "shop", spec={"maxReplicas": 3}),
    crd("example.com", "Widget", "widgets", versions=("v1", "v1beta1")),
    obj("example.com/v1", "Widget", "w1", "shop", spec={"size": 2}),
    obj("v1", "Event", "web.1", "shop", reason="Pulled"),
    obj("coordination.k8s.io/v1", "Lease", "node-1", "kube-node-lease"),
]
EXPECTED = {
    ("v1", "Namespace", None, "shop"),
    ("v1", "Pod", "shop", "web"),
    ("apps/v1", "Deployment", "shop", "api"),
    ("v1", "Secret", "shop", "db"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", None, "reader"),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "shop", "api"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, "widgets.example.com"),
    ("example.com/v1", "Widget", "shop", "w1"),
}


@pytest.mark.parametrize("tls", [False, True])
def test_collects_every_listable_kind(servers: list[FakeApiServer], tmp_path: Path, tls: bool) -> None:
    server = serve(servers, CLUSTER, tls=tls, token="t0ken", server_version="v1.30.7")
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")))
    assert result.errors == []
    assert result.skipped == []
    # Events and Leases are skipped by default; HPAs are read once, at the preferred version.
    assert identities(result) == EXPECTED
    assert {r.origin for r in result.resources} == {Origin(file="cluster:current", line=0)}
    assert result.facts["server_version"] == "v1.30.7"
    assert result.facts["context"] == "stockade-fake"
    collected_at = datetime.datetime.fromisoformat(str(result.facts["collected_at"]))
    assert abs((datetime.datetime.now(datetime.UTC) - collected_at).total_seconds()) < 60
    paths = {r.path for r in server.requests}
    # Subresources, create-only APIs, non-preferred versions and noisy kinds are never requested.
    assert not {p for p in paths if p.endswith(("/log", "/status", "/bindings", "/tokenreviews"))}
    assert "/apis/autoscaling/v1/horizontalpodautoscalers" not in paths
    assert "/api/v1/events" not in paths
    assert "/apis/coordination.k8s.io/v1/leases" not in paths
    assert list_requests(server, "/api/v1/pods") == ["limit=500"]


def test_named_context_from_a_shared_kubeconfig(servers: list[FakeApiServer], tmp_path: Path) -> None:
    first = serve(servers, [pod("from-first")])
    second = serve(servers, [pod("from-second")], tls=True, token="x")
    path = tmp_path / "config"
    first.kubeconfig(path, context="first")
    second.kubeconfig(path, context="second", current=False)
    result = collect_cluster(context="second", kubeconfig=str(path), kinds=["pods"])
    assert [(r.name, r.origin.file) for r in result.resources] == [("from-second", "cluster:second")]
    assert result.facts["context"] == "second"
    current = collect_cluster(kubeconfig=str(path), kinds=["pods"])
    assert [(r.name, r.origin.file) for r in current.resources] == [("from-first", "cluster:current")]
    assert current.facts["context"] == "first"


def test_kubeconfig_from_the_environment(
    servers: list[FakeApiServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(servers, [pod("p")])
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "config")))
    assert [r.name for r in collect_cluster(kinds=["Pod"]).resources] == ["p"]
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    server.kubeconfig(tmp_path / ".kube" / "config")
    assert [r.name for r in collect_cluster(kinds=["Pod"]).resources] == ["p"]


def test_in_cluster_service_account(
    servers: list[FakeApiServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(servers, [pod("p")], tls=True, token="sa-token")
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("sa-token")
    assert server.ca_pem is not None
    (account / "ca.crt").write_bytes(server.ca_pem)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    result = collect_cluster(kinds=["pods"], service_account_dir=account)
    assert result.errors == []
    assert [r.name for r in result.resources] == ["p"]
    assert result.facts["context"] == "in-cluster"


def test_configuration_problems_are_input_errors(
    servers: list[FakeApiServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(servers, [pod("p")])
    path = server.kubeconfig(tmp_path / "config", context="only")
    unknown = collect_cluster(context="prod", kubeconfig=str(path))
    assert [(e.kind, e.message) for e in unknown.errors] == [
        ("config", f"context 'prod' not found in {path} (contexts: only)")
    ]
    # A context can be chosen from a kubeconfig that names no current one.
    config = yaml.safe_load(path.read_text())
    del config["current-context"]
    path.write_text(yaml.safe_dump(config))
    chosen = collect_cluster(context="only", kubeconfig=str(path), kinds=["pods"])
    assert [r.name for r in chosen.resources] == ["p"]
    unchosen = collect_cluster(kubeconfig=str(path))
    assert [e.kind for e in unchosen.errors] == ["config"]
    assert unchosen.errors[0].message.startswith("invalid cluster configuration: ")
    assert "current-context" in unchosen.errors[0].message
    missing = collect_cluster(kubeconfig=str(tmp_path / "nope"))
    assert [e.message for e in missing.errors] == [f"kubeconfig {tmp_path / 'nope'} does not exist"]
    garbage = tmp_path / "garbage"
    garbage.write_text("clusters: [unclosed\n")
    assert (
        collect_cluster(kubeconfig=str(garbage)).errors[0].message.startswith("cannot read the cluster configuration")
    )
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    nothing = collect_cluster()
    assert nothing.resources == []
    assert nothing.errors[0].message.startswith("no kubeconfig found")
    assert all(e.source == "cluster:current" for e in nothing.errors)


def test_paging_2500_objects_of_one_kind(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [obj("v1", "ConfigMap", f"cm-{i:04d}", f"ns-{i % 13}") for i in range(2500)])
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), kinds=["configmaps"])
    names = [(r.namespace, r.name) for r in result.resources]
    assert len(names) == len(set(names)) == 2500
    queries = list_requests(server, "/api/v1/configmaps")
    assert len(queries) == 5
    assert all(q.startswith("limit=500") for q in queries)
    assert sum("continue=" in q for q in queries) == 4


def test_forbidden_kinds_are_errors_and_the_scan_goes_on(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, CLUSTER, forbidden=["secrets", "clusterroles.rbac.authorization.k8s.io"])
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")))
    assert sorted(e.message for e in result.errors) == [
        "cannot list clusterroles.rbac.authorization.k8s.io (missing RBAC: list on clusterroles in API group "
        '"rbac.authorization.k8s.io")',
        'cannot list secrets (missing RBAC: list on secrets in API group "")',
    ]
    assert all(e.source == "cluster:current" and e.kind == "read" for e in result.errors)
    assert identities(result) == {i for i in EXPECTED if i[1] not in ("Secret", "ClusterRole")}


def test_failures_are_retried_until_the_collection_completes(servers: list[FakeApiServer], tmp_path: Path) -> None:
    objects = [pod(f"p{i}") for i in range(1200)] + [deployment(f"d{i}") for i in range(3)]
    objects += [obj("v1", "ConfigMap", f"c{i}", "x") for i in range(30)]
    server = serve(servers, objects)
    faults = [
        server.inject("/api/v1/pods", status=500, times=2),
        server.inject("/api/v1/pods", query="continue=", drop="mid", times=1),
        server.inject("/api/v1/configmaps", status=429, retry_after=1, times=1),
        server.inject("/apis/apps/v1/deployments", drop="before", times=2),
        server.inject("/apis/apps/v1", status=503, times=1),
        server.inject("/version", delay=0.2, times=1),
    ]
    started = time.monotonic()
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")))
    assert result.errors == []
    assert len([r for r in result.resources if r.kind == "Pod"]) == 1200
    assert len({r.name for r in result.resources if r.kind == "Pod"}) == 1200
    assert len([r for r in result.resources if r.kind == "Deployment"]) == 3
    assert len([r for r in result.resources if r.kind == "ConfigMap"]) == 30
    assert [f.hits for f in faults] == [2, 1, 1, 2, 1, 1]
    assert time.monotonic() - started >= 1.0  # the Retry-After was honoured


def test_exhausted_retries_name_the_kind(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod("p"), deployment("d")])
    server.inject("/api/v1/pods", status=503, times=100)
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), retry=FAST)
    assert [e.message for e in result.errors] == [
        "cannot list pods after 3 attempts: HTTP 503: the server is currently unable to handle the request"
    ]
    assert [r.name for r in result.resources if r.kind == "Deployment"] == ["d"]
    assert len(list_requests(server, "/api/v1/pods")) == 3


def test_expired_continue_token_restarts_the_list(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod(f"p{i:04d}", f"n{i % 5}") for i in range(1200)])
    server.inject("/api/v1/pods", query="continue=", compact=True, times=1)
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), kinds=["pods"])
    assert result.errors == []
    names = [(r.namespace, r.name) for r in result.resources]
    assert len(names) == len(set(names)) == 1200
    statuses = [r.status for r in server.requests if r.path == "/api/v1/pods"]
    assert statuses == [200, 410, 200, 200, 200]


def test_a_list_that_keeps_expiring_is_an_error(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod(f"p{i}") for i in range(20)])
    server.inject("/api/v1/pods", query="continue=", compact=True, times=100)
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), kinds=["pods"], page_size=5)
    assert result.resources == []
    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("cannot list pods: the list kept expiring")


def test_requests_in_flight_are_bounded(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, CLUSTER)
    server.inject("/api*", delay=0.05, times=10_000)
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), workers=3)
    assert result.errors == []
    assert 2 <= server.max_in_flight <= 3


def test_no_secret_value_reaches_the_result(servers: list[FakeApiServer], tmp_path: Path) -> None:
    planted = {"password": "Planted-Value-7f3e91", "token": "Planted-Token-00aa42"}
    string_planted = {"apiKey": "Planted-String-5c2d77"}
    server = serve(
        servers, [secret("db", "shop", planted, string_planted), secret("tls", "kube-system", {"k": "Planted-K"})]
    )
    # The server really holds the values (the test would prove nothing otherwise).
    assert server.get("v1", "Secret", "db", "shop") is not None
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")))
    serialized = (
        orjson.dumps(
            {"resources": result.resources, "errors": result.errors, "skipped": result.skipped, "facts": result.facts},
            default=repr,
        )
        + repr(result).encode()
    )
    for value in [*planted.values(), *string_planted.values(), "Planted-K"]:
        assert value.encode() not in serialized
        assert base64.b64encode(value.encode()) not in serialized
    assert b"Planted" not in serialized
    db = next(r for r in result.resources if r.kind == "Secret" and r.name == "db")
    assert sorted(db.raw["data"]) == ["password", "token"]
    assert sorted(db.raw["stringData"]) == ["apiKey"]
    assert set(db.raw["data"].values()) == {""}
    assert db.annotations == {"team": "payments"}
    assert db.raw["type"] == "Opaque"


def test_unreachable_cluster_is_one_error(tmp_path: Path) -> None:
    server = FakeApiServer([pod("p")]).start()
    path = server.kubeconfig(tmp_path / "config")
    server.stop()
    result = collect_cluster(kubeconfig=str(path), retry=FAST)
    assert result.resources == []
    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("cannot reach the cluster: connection failed")


def test_rejected_credentials(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod("p")], tls=True, token="right")
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config", token="wrong")))
    assert result.resources == []
    assert [e.message for e in result.errors] == ["the cluster rejected the credentials (401 Unauthorized)"]


def test_kind_selection(servers: list[FakeApiServer], tmp_path: Path) -> None:
    objects = [*CLUSTER, obj("networking.k8s.io/v1", "NetworkPolicy", "deny", "shop", spec={})]
    objects.append(obj("events.k8s.io/v1", "Event", "web.2", "shop"))
    server = serve(servers, objects)
    path = str(server.kubeconfig(tmp_path / "config"))
    result = collect_cluster(
        kubeconfig=path, kinds=["Deployment", "secrets", "netpol", "widgets.example.com", "nosuch"]
    )
    assert {r.kind for r in result.resources} == {"Deployment", "Secret", "NetworkPolicy", "Widget"}
    assert [(e.kind, e.message) for e in result.errors] == [
        ("config", "the cluster serves no listable resource named 'nosuch'")
    ]
    # Noisy kinds are listed when asked for; the events.k8s.io view of core Events is not read twice.
    events = collect_cluster(kubeconfig=path, kinds=["events", "wid", "leases.coordination.k8s.io"])
    assert sorted((r.api_version, r.name) for r in events.resources) == [
        ("coordination.k8s.io/v1", "node-1"),
        ("example.com/v1", "w1"),
        ("v1", "web.1"),
    ]


def test_noisy_groups_are_not_even_discovered(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod("p"), obj("metrics.k8s.io/v1beta1", "PodMetrics", "p", "default")])
    path = str(server.kubeconfig(tmp_path / "config"))
    server.inject("/apis/metrics.k8s.io/*", status=503, times=100)  # aggregated APIs are often down
    result = collect_cluster(kubeconfig=path)
    assert result.errors == []
    assert not [r for r in server.requests if r.path.startswith("/apis/metrics.k8s.io")]
    server.clear_faults()
    noisy = collect_cluster(kubeconfig=path, include_noisy=True)
    assert ("metrics.k8s.io/v1beta1", "PodMetrics", "default", "p") in identities(noisy)


def test_a_failing_group_is_reported_and_others_are_read(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, CLUSTER)
    server.inject("/apis/example.com/v1", status=503, times=100)
    result = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), retry=FAST)
    assert [e.message for e in result.errors] == [
        "cannot discover API group example.com: the server is currently unable to handle the request"
    ]
    assert identities(result) == {i for i in EXPECTED if i[1] != "Widget"}


def test_progress_reports_each_kind_listed(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod("p"), deployment("d")])
    path = str(server.kubeconfig(tmp_path / "config"))
    told: list[tuple[str, int, int]] = []
    collect_cluster(kubeconfig=path, kinds=["pods", "deployments"], progress=lambda *step: told.append(step))
    assert sorted(what for what, _, _ in told) == ["listing deployments.apps", "listing pods"]
    assert sorted(done for _, done, _ in told) == [1, 2]
    assert {total for _, _, total in told} == {2}


def _with_exec_plugin(path: Path, script: Path) -> None:
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(script), "args": []}
    }
    path.write_text(yaml.safe_dump(config))


def test_exec_credential_plugins(servers: list[FakeApiServer], tmp_path: Path) -> None:
    server = serve(servers, [pod("p")], tls=True, token="from-plugin")
    path = server.kubeconfig(tmp_path / "config", token="unused")
    plugin = tmp_path / "plugin.sh"
    credential = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential"}
    credential["status"] = {"token": "from-plugin"}
    plugin.write_text(f"#!/bin/sh\necho '{orjson.dumps(credential).decode()}'\n")
    plugin.chmod(0o700)
    _with_exec_plugin(path, plugin)
    result = collect_cluster(kubeconfig=str(path), kinds=["pods"])
    assert result.errors == []
    assert [r.name for r in result.resources] == ["p"]
    failing = tmp_path / "failing.sh"
    failing.write_text("#!/bin/sh\necho 'no credentials for you' >&2\nexit 1\n")
    failing.chmod(0o700)
    _with_exec_plugin(path, failing)
    broken = collect_cluster(kubeconfig=str(path), kinds=["pods"])
    assert broken.resources == []
    # The plugin's failure is the reason, not the server's 401 that would follow without a token.
    assert [e.message for e in broken.errors] == [
        "the credential plugin failing.sh failed (exit status 1): no credentials for you"
    ]


def _jwt(claims: dict[str, Any]) -> str:
    import base64

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_oidc_auth_provider_id_token(servers: list[FakeApiServer], tmp_path: Path) -> None:
    """kubectl's `auth-provider: oidc` with a current id-token: the client sends it as the bearer."""
    token = _jwt({"iss": "https://issuer.example", "sub": "alice", "exp": 4102444800})  # year 2100
    server = serve(servers, [pod("p")], tls=True, token=token)
    path = server.kubeconfig(tmp_path / "config", token="unused")
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {
        "auth-provider": {
            "name": "oidc",
            "config": {"client-id": "stockade", "idp-issuer-url": "https://issuer.example", "id-token": token},
        }
    }
    path.write_text(yaml.safe_dump(config))
    result = collect_cluster(kubeconfig=str(path), kinds=["pods"])
    assert result.errors == []
    assert [r.name for r in result.resources] == ["p"]
    wrong = _jwt({"iss": "https://issuer.example", "sub": "mallory", "exp": 4102444800})
    config["users"][0]["user"]["auth-provider"]["config"]["id-token"] = wrong
    path.write_text(yaml.safe_dump(config))
    rejected = collect_cluster(kubeconfig=str(path), kinds=["pods"])
    assert [e.message for e in rejected.errors] == ["the cluster rejected the credentials (401 Unauthorized)"]
