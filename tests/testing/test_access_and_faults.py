"""Authentication, RBAC refusals, kubeconfig files and injected faults of FakeApiServer."""

from __future__ import annotations

import base64
import stat
import time
from pathlib import Path

import orjson
import pytest
import urllib3
import yaml
from kubernetes import client, config

from stockade.testing._tls import make_server_certificate
from tests.testing.conftest import MakeClient, MakeServer
from tests.testing.objects import deployment, pod, secret


def status_of(error: client.ApiException) -> dict[str, object]:
    body = orjson.loads(error.body)
    assert body["kind"] == "Status"
    return dict(body)


def test_forbidden_resources_get_the_api_server_message(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([deployment("api", "shop")], user="jane", forbidden=["secrets", "deployments.apps"])
    api = make_client(server)
    v1, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    with pytest.raises(client.ApiException) as caught:
        v1.list_secret_for_all_namespaces()
    assert caught.value.status == 403
    status = status_of(caught.value)
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        'secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" at the cluster scope'
    )
    with pytest.raises(client.ApiException) as caught:
        apps.read_namespaced_deployment("api", "shop")
    assert status_of(caught.value)["message"] == (
        'deployments.apps "api" is forbidden: User "jane" cannot get resource "deployments" '
        'in API group "apps" in the namespace "shop"'
    )
    assert v1.list_config_map_for_all_namespaces().items == []
    server.allow("deployments.apps")
    assert apps.read_namespaced_deployment("api", "shop").metadata.name == "api"
    server.forbid("configmaps")
    with pytest.raises(client.ApiException) as caught:
        v1.list_namespaced_config_map("kube-system")
    assert status_of(caught.value)["message"] == (
        'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" '
        'in the namespace "kube-system"'
    )


@pytest.mark.parametrize("tls", [False, True])
def test_bearer_token_is_required(make_server: MakeServer, make_client: MakeClient, tls: bool) -> None:
    server = make_server([pod("a")], tls=tls, token="right")
    assert len(client.CoreV1Api(make_client(server)).list_pod_for_all_namespaces().items) == 1
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(make_client(server, token="wrong")).list_pod_for_all_namespaces()
    assert caught.value.status == 401
    assert status_of(caught.value)["reason"] == "Unauthorized"


def test_kubeconfig_is_private_and_merges_contexts(make_server: MakeServer, tmp_path: Path) -> None:
    plain = make_server([pod("from-plain")])
    secure = make_server([pod("from-secure")], tls=True, token="t")
    path = tmp_path / "config"
    plain.kubeconfig(path, context="plain")
    secure.kubeconfig(path, context="secure", current=False, namespace="shop")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = yaml.safe_load(path.read_text())
    assert written["current-context"] == "plain"
    assert sorted(c["name"] for c in written["contexts"]) == ["plain", "secure"]
    secure_cluster = next(c["cluster"] for c in written["clusters"] if c["name"] == "secure")
    assert base64.b64decode(secure_cluster["certificate-authority-data"]) == secure.ca_pem
    for context, expected in (("plain", "from-plain"), ("secure", "from-secure"), (None, "from-plain")):
        api = config.new_client_from_config(config_file=str(path), context=context, persist_config=False)
        try:
            names = [p.metadata.name for p in client.CoreV1Api(api).list_pod_for_all_namespaces().items]
        finally:
            api.close()
        assert names == [expected]


def test_certificate_files(tmp_path: Path) -> None:
    cert = make_server_certificate(tmp_path)
    assert stat.S_IMODE(cert.key_file.stat().st_mode) == 0o600
    assert b"BEGIN CERTIFICATE" in cert.ca_pem
    assert b"PRIVATE KEY" in cert.key_file.read_bytes()


def test_tls_client_without_the_ca_is_refused(make_server: MakeServer) -> None:
    server = make_server(tls=True)
    configuration = client.Configuration(host=server.url)
    configuration.retries = 0
    with client.ApiClient(configuration) as api, pytest.raises((client.ApiException, urllib3.exceptions.HTTPError)):
        client.VersionApi(api).get_code()


def test_injected_statuses_for_the_first_requests(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a")])
    busy = server.inject("/api/v1/pods", status=429, retry_after=3, times=1)
    broken = server.inject("/api/v1/*", status=500, times=2)
    v1 = client.CoreV1Api(make_client(server, retries=0))
    with pytest.raises(client.ApiException) as caught:
        v1.list_pod_for_all_namespaces()
    # Both faults matched the first request; the first added (the 429) answered it.
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "3"
    assert status_of(caught.value)["reason"] == "TooManyRequests"
    with pytest.raises(client.ApiException) as caught:
        v1.list_namespaced_config_map("x")
    assert caught.value.status == 500
    assert status_of(caught.value)["reason"] == "InternalError"
    assert len(v1.list_pod_for_all_namespaces().items) == 1
    assert (busy.hits, broken.hits) == (1, 2)
    assert [r.status for r in server.requests] == [429, 500, 200]


def test_delays_and_dropped_connections(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod(f"p{i}") for i in range(50)])
    api = make_client(server, retries=0)
    v1 = client.CoreV1Api(api)
    server.inject("/api/v1/pods", delay=0.5)
    started = time.monotonic()
    v1.list_pod_for_all_namespaces()
    assert time.monotonic() - started >= 0.5
    server.inject("/api/v1/pods", drop="before")
    with pytest.raises(urllib3.exceptions.HTTPError):
        v1.list_pod_for_all_namespaces()
    server.inject("/api/v1/pods", drop="mid")
    with pytest.raises(urllib3.exceptions.HTTPError):
        v1.list_pod_for_all_namespaces()
    assert len(v1.list_pod_for_all_namespaces().items) == 50
    assert [r.status for r in server.requests][-3:] == [0, 0, 200]


def test_compacting_fault_expires_continue_tokens(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod(f"p{i}") for i in range(5)])
    server.inject("/api/v1/pods", query="continue=", compact=True)
    v1 = client.CoreV1Api(make_client(server))
    first = v1.list_pod_for_all_namespaces(limit=2)
    with pytest.raises(client.ApiException) as caught:
        v1.list_pod_for_all_namespaces(limit=2, _continue=first.metadata._continue)
    assert caught.value.status == 410


def test_secrets_are_served_with_their_values(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([secret("db", "shop", {"password": "hunter2"})])
    read = client.CoreV1Api(make_client(server)).read_namespaced_secret("db", "shop")
    assert base64.b64decode(read.data["password"]) == b"hunter2"
