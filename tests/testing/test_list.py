"""Get and list through FakeApiServer: resourceVersions, paging, 410 on stale continue tokens, 404."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes import client

from stockade.testing._store import Gone, Store
from tests.testing.conftest import MakeClient, MakeServer
from tests.testing.objects import crd, deployment, obj, pod


def test_list_carries_resource_versions(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a", "x"), pod("b", "y")])
    v1 = client.CoreV1Api(make_client(server))
    listed = v1.list_pod_for_all_namespaces()
    assert listed.metadata.resource_version == str(server.resource_version)
    assert sorted((p.metadata.namespace, p.metadata.name) for p in listed.items) == [("x", "a"), ("y", "b")]
    assert all(int(p.metadata.resource_version) > 0 for p in listed.items)
    assert [p.metadata.name for p in v1.list_namespaced_pod("y").items] == ["b"]
    assert v1.list_namespaced_pod("nowhere").items == []


def test_list_items_are_typed_like_the_real_server(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a"), crd("example.com", "Widget", "widgets"), obj("example.com/v1", "Widget", "w", "x")])
    api = make_client(server)
    pods = client.CoreV1Api(api).list_pod_for_all_namespaces(_preload_content=False)
    body = orjson.loads(pods.data)
    assert body["kind"] == "PodList"
    assert body["apiVersion"] == "v1"
    # Built-in kinds: items come without apiVersion/kind; custom resources keep theirs.
    assert "kind" not in body["items"][0]
    widgets = client.CustomObjectsApi(api).list_cluster_custom_object("example.com", "v1", "widgets")
    assert widgets["kind"] == "WidgetList"
    assert widgets["items"][0]["kind"] == "Widget"


def test_paging_2500_objects_loses_and_repeats_nothing(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod(f"p{i:04d}", f"ns{i % 9}") for i in range(2500)])
    v1 = client.CoreV1Api(make_client(server))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = v1.list_pod_for_all_namespaces(limit=500, _continue=token)
        pages += 1
        seen.extend(f"{p.metadata.namespace}/{p.metadata.name}" for p in page.items)
        token = page.metadata._continue
        if pages == 2:
            # Changes after the first page do not leak into the pages of this list.
            server.create(pod("late", "ns0"))
            server.delete("v1", "Pod", "p0000", "ns0")
        if not token:
            break
        assert page.metadata.remaining_item_count == 2500 - len(seen)
    assert pages == 5
    assert len(seen) == len(set(seen)) == 2500
    assert "ns0/late" not in seen
    assert "ns0/p0000" in seen


def test_stale_and_invalid_continue_tokens_are_gone(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod(f"p{i}") for i in range(10)])
    v1 = client.CoreV1Api(make_client(server))
    first = v1.list_pod_for_all_namespaces(limit=3)
    server.compact()
    for token in (first.metadata._continue, "not-a-token"):
        with pytest.raises(client.ApiException) as caught:
            v1.list_pod_for_all_namespaces(limit=3, _continue=token)
        assert caught.value.status == 410
        status = orjson.loads(caught.value.body)
        assert (status["kind"], status["reason"], status["code"]) == ("Status", "Expired", 410)
    # A fresh list works again.
    assert len(v1.list_pod_for_all_namespaces(limit=20).items) == 10


def test_get_and_not_found(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([deployment("api", "shop"), obj("v1", "Namespace", "shop")])
    api = make_client(server)
    apps = client.AppsV1Api(api)
    found = apps.read_namespaced_deployment("api", "shop")
    assert (found.kind, found.api_version, found.metadata.name) == ("Deployment", "apps/v1", "api")
    assert client.CoreV1Api(api).read_namespace("shop").metadata.name == "shop"
    with pytest.raises(client.ApiException) as caught:
        apps.read_namespaced_deployment("missing", "shop")
    assert caught.value.status == 404
    status = orjson.loads(caught.value.body)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'deployments.apps "missing" not found'


def test_label_and_field_selectors(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a", tier="web"), pod("b", tier="db"), pod("c")])
    v1 = client.CoreV1Api(make_client(server))
    names = lambda **kw: sorted(p.metadata.name for p in v1.list_pod_for_all_namespaces(**kw).items)  # noqa: E731
    assert names(label_selector="tier=web") == ["a"]
    assert names(label_selector="tier!=web") == ["b", "c"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!tier") == ["c"]
    assert names(label_selector="tier in (db, web),tier notin (db)") == ["a"]
    assert names(field_selector="metadata.name=b") == ["b"]
    with pytest.raises(client.ApiException) as caught:
        v1.list_pod_for_all_namespaces(field_selector="spec.nodeName=n1")
    assert caught.value.status == 400
    with pytest.raises(client.ApiException) as caught:
        v1.list_pod_for_all_namespaces(label_selector="tier=web=db")
    assert caught.value.status == 400
    assert "unable to parse requested selector" in orjson.loads(caught.value.body)["message"]


def test_writes_go_to_the_same_store(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server()
    v1 = client.CoreV1Api(make_client(server))
    v1.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert [o["metadata"]["name"] for o in server.objects()] == ["x"]
    with pytest.raises(client.ApiException) as caught:
        v1.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert caught.value.status == 409  # tests/testing/test_writes.py covers the rest


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(0, 60),
    limit=st.integers(1, 25),
    changes=st.lists(st.tuples(st.sampled_from(["create", "delete"]), st.integers(0, 80)), max_size=10),
)
def test_paged_list_is_the_first_page_snapshot(count: int, limit: int, changes: list[tuple[str, int]]) -> None:
    store = Store(history=100)
    store.load(pod(f"p{i:02d}") for i in range(count))
    expected = [f"p{i:02d}" for i in range(count)]
    page = store.list_page("", "Pod", None, lambda _o: True, limit, None)
    seen = [o["metadata"]["name"] for o in page.items]
    changes_left = list(changes)
    while page.token:
        if changes_left:
            verb, n = changes_left.pop()
            if verb == "create":
                store.put(pod(f"q{n:02d}"), "apply")
            elif n < count and store.get("", "Pod", "default", f"p{n:02d}") is not None:
                store.delete("v1", "Pod", f"p{n:02d}", "default")
        page = store.list_page("", "Pod", None, lambda _o: True, limit, page.token)
        seen.extend(o["metadata"]["name"] for o in page.items)
    assert seen == expected
    store.compact()
    with pytest.raises(Gone):
        store.list_page("", "Pod", None, lambda _o: True, limit, "eyJydiI6MX0")


def test_object_methods(make_server: MakeServer) -> None:
    server = make_server([pod("a"), obj("v1", "Node", "n1")])
    stored = server.get("v1", "Pod", "a")
    assert stored is not None and stored["metadata"]["namespace"] == "default"
    assert server.get("v1", "Node", "n1") is not None
    assert server.get("v1", "Pod", "missing") is None
    with pytest.raises(ValueError, match="already exists"):
        server.create(pod("a"))
    with pytest.raises(ValueError, match="not found"):
        server.update(pod("b"))
    with pytest.raises(ValueError, match="not found"):
        server.delete("v1", "Pod", "b", "default")
    with pytest.raises(ValueError, match=r"metadata\.name"):
        server.create({"apiVersion": "v1", "kind": "Pod", "metadata": {}})
    before = server.resource_version
    updated = server.apply(pod("a", tier="web"))
    assert int(updated["metadata"]["resourceVersion"]) == before + 1
    assert updated["metadata"]["uid"] == stored["metadata"]["uid"]
    assert sorted(o["metadata"]["name"] for o in server.objects()) == ["a", "n1"]
