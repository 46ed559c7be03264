"""Writes over HTTP through the official client: create, replace, patch, delete, optimistic
concurrency (409), write permissions (403) and bad requests."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from stockade.testing import FakeApiServer
from tests.testing.conftest import MakeClient, MakeServer


def lease(name: str = "leader", holder: str = "a") -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "stockade"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15},
    }


def test_create_read_replace_and_a_stale_replace(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server()
    leases = client.CoordinationV1Api(make_client(server))
    created = leases.create_namespaced_lease("stockade", lease())
    assert created.metadata.resource_version == str(server.resource_version)
    assert created.metadata.uid
    with pytest.raises(ApiException) as exists:
        leases.create_namespaced_lease("stockade", lease())
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"
    read = leases.read_namespaced_lease("leader", "stockade")
    read.spec.holder_identity = "b"
    replaced = leases.replace_namespaced_lease("leader", "stockade", read)
    assert replaced.spec.holder_identity == "b"
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    created.spec.holder_identity = "c"  # still carries the first resourceVersion
    with pytest.raises(ApiException) as stale:
        leases.replace_namespaced_lease("leader", "stockade", created)
    body = json.loads(stale.value.body)
    assert stale.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    assert server.get("coordination.k8s.io/v1", "Lease", "leader", "stockade")["spec"]["holderIdentity"] == "b"


def test_patches(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([lease()])
    api = make_client(server)
    leases = client.CoordinationV1Api(api)
    merged = leases.patch_namespaced_lease(
        "leader", "stockade", {"spec": {"holderIdentity": "m", "leaseTransitions": 2}}
    )
    assert (merged.spec.holder_identity, merged.spec.lease_transitions) == ("m", 2)
    assert merged.spec.lease_duration_seconds == 15  # untouched by the merge
    ops = [
        {"op": "test", "path": "/spec/holderIdentity", "value": "m"},
        {"op": "remove", "path": "/spec/leaseTransitions"},
    ]
    patched = api.call_api(
        *api.param_serialize(
            "PATCH",
            "/apis/coordination.k8s.io/v1/namespaces/stockade/leases/leader",
            header_params={"Content-Type": "application/json-patch+json", "Accept": "application/json"},
            body=ops,
        )
    )
    patched.read()
    assert patched.status == 200 and "leaseTransitions" not in json.loads(patched.data)["spec"]
    failing = [{"op": "test", "path": "/spec/holderIdentity", "value": "someone else"}]
    with pytest.raises(ApiException) as invalid:
        leases.patch_namespaced_lease("leader", "stockade", failing)
    assert invalid.value.status == 422
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"holderIdentity": "x"}}
    with pytest.raises(ApiException) as conflict:
        leases.patch_namespaced_lease("leader", "stockade", stale)
    assert conflict.value.status == 409


def test_delete_with_and_without_precondition(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([lease("one"), lease("two")])
    leases = client.CoordinationV1Api(make_client(server))
    with pytest.raises(ApiException) as stale:
        leases.delete_namespaced_lease(
            "one", "stockade", body=client.V1DeleteOptions(preconditions={"resourceVersion": "999"})
        )
    assert stale.value.status == 409
    current = leases.read_namespaced_lease("one", "stockade").metadata.resource_version
    leases.delete_namespaced_lease(
        "one", "stockade", body=client.V1DeleteOptions(preconditions={"resourceVersion": current})
    )
    leases.delete_namespaced_lease("two", "stockade")
    assert server.objects() == []
    with pytest.raises(ApiException) as missing:
        leases.delete_namespaced_lease("two", "stockade")
    assert missing.value.status == 404


def test_watchers_see_http_writes(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server()
    api = make_client(server)
    leases = client.CoordinationV1Api(api)
    created = leases.create_namespaced_lease("stockade", lease(holder="a"))
    seen: list[tuple[str, str]] = []

    def follow() -> None:
        stream = watch.Watch()
        since = created.metadata.resource_version
        for event in stream.stream(leases.list_namespaced_lease, "stockade", resource_version=since, timeout_seconds=5):
            seen.append((event["type"], event["object"].spec.holder_identity))
            if event["type"] == "DELETED":
                stream.stop()

    follower = threading.Thread(target=follow)
    follower.start()
    leases.patch_namespaced_lease("leader", "stockade", {"spec": {"holderIdentity": "b"}})
    leases.delete_namespaced_lease("leader", "stockade")
    follower.join(10)
    assert seen == [("MODIFIED", "b"), ("DELETED", "b")]


def test_write_permissions(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([lease()])
    server.forbid_writes("leases.coordination.k8s.io")
    leases = client.CoordinationV1Api(make_client(server))
    assert leases.read_namespaced_lease("leader", "stockade").spec.holder_identity == "a"  # reads still work
    with pytest.raises(ApiException) as denied:
        leases.patch_namespaced_lease("leader", "stockade", {"spec": {"holderIdentity": "b"}})
    message = json.loads(denied.value.body)["message"]
    assert denied.value.status == 403
    assert 'cannot patch resource "leases" in API group "coordination.k8s.io" in the namespace "stockade"' in message
    server.allow("leases.coordination.k8s.io")
    assert (
        leases.patch_namespaced_lease("leader", "stockade", {"spec": {"holderIdentity": "b"}}).spec.holder_identity
        == "b"
    )


def _raw(
    server: FakeApiServer, method: str, path: str, body: bytes, content_type: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        server.url + path, data=body, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "code"),
    [
        ("POST", "/apis/coordination.k8s.io/v1/namespaces/stockade/leases", b"{not json", "application/json", 400),
        (
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/stockade/leases",
            b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}',
            "application/json",
            400,
        ),
        (
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/stockade/leases/leader",
            b'{"metadata":{"name":"other"}}',
            "application/json",
            400,
        ),
        (
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/other/leases",
            b'{"metadata":{"name":"x","namespace":"stockade"}}',
            "application/json",
            400,
        ),
        ("PATCH", "/apis/coordination.k8s.io/v1/namespaces/stockade/leases/leader", b"{}", "text/plain", 415),
        (
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/stockade/leases/nobody",
            b'{"metadata":{"name":"nobody"}}',
            "application/json",
            404,
        ),
        ("POST", "/apis/coordination.k8s.io/v1/namespaces/stockade/leases/leader", b"{}", "application/json", 405),
        (
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/stockade/leases",
            b"x" * (3 * 1024 * 1024 + 1),
            "application/json",
            413,
        ),
    ],
)
def test_bad_writes(make_server: MakeServer, method: str, path: str, body: bytes, content_type: str, code: int) -> None:
    server = make_server([lease()])
    answered, status = _raw(server, method, path, body, content_type)
    assert answered == code, status
    assert server.get("coordination.k8s.io/v1", "Lease", "leader", "stockade")["spec"]["holderIdentity"] == "a"


def test_generate_name(make_server: MakeServer) -> None:
    server = make_server()
    body = json.dumps({"metadata": {"generateName": "report-"}}).encode()
    code, made = _raw(server, "POST", "/apis/coordination.k8s.io/v1/namespaces/stockade/leases", body)
    assert code == 201
    assert made["metadata"]["name"].startswith("report-") and len(made["metadata"]["name"]) == len("report-") + 5
