"""Watch streams from FakeApiServer, consumed by the official client's ``Watch().stream``."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest
import urllib3
from kubernetes import client, watch

from stockade.testing import FakeApiServer
from tests.testing.conftest import MakeClient, MakeServer
from tests.testing.objects import crd, obj, pod


def later(delay: float, *steps: Any) -> threading.Thread:
    """Run the callables in ``steps`` after ``delay`` seconds, in a thread."""

    def run() -> None:
        time.sleep(delay)
        for step in steps:
            step()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_events_and_bookmarks(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("old", "shop"), pod("elsewhere", "other")], bookmark_interval=0.2)
    v1 = client.CoreV1Api(make_client(server))
    start = v1.list_namespaced_pod("shop").metadata.resource_version
    driver = later(
        0.3,
        lambda: server.create(pod("new", "shop")),
        lambda: server.create(pod("ignored", "other")),
        lambda: server.update(pod("new", "shop", tier="web")),
        lambda: server.delete("v1", "Pod", "old", "shop"),
    )
    stream = watch.Watch()
    seen: list[tuple[str, str | None, int]] = []
    bookmarks: list[int] = []
    for event in stream.stream(v1.list_namespaced_pod, "shop", resource_version=start, allow_watch_bookmarks=True):
        raw = event["raw_object"]
        if event["type"] == "BOOKMARK":
            bookmarks.append(int(raw["metadata"]["resourceVersion"]))
            if seen and seen[-1][0] == "DELETED":
                stream.stop()
            continue
        assert isinstance(event["object"], client.V1Pod)
        seen.append((event["type"], event["object"].metadata.name, int(raw["metadata"]["resourceVersion"])))
    driver.join()
    assert [(kind, name) for kind, name, _ in seen] == [("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "old")]
    versions = [rv for _, _, rv in seen]
    assert versions == sorted(versions) and versions[0] > int(start)
    assert bookmarks[0] <= versions[0] <= versions[-1] <= bookmarks[-1]
    assert stream.resource_version == str(bookmarks[-1])


def test_watch_without_resource_version_starts_with_current_state(
    make_server: MakeServer, make_client: MakeClient
) -> None:
    server = make_server([pod("a", "shop"), pod("b", "shop"), pod("c", "other")])
    v1 = client.CoreV1Api(make_client(server))
    events = list(watch.Watch().stream(v1.list_namespaced_pod, "shop", timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "a"), ("ADDED", "b")]


def test_initial_events_end_bookmark(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a")], bookmark_interval=30)
    v1 = client.CoreV1Api(make_client(server))
    events = list(
        watch.Watch().stream(
            v1.list_pod_for_all_namespaces,
            allow_watch_bookmarks=True,
            send_initial_events=True,
            resource_version_match="NotOlderThan",
            resource_version="",
            timeout_seconds=1,
        )
    )
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["raw_object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_timeout_seconds_ends_a_quiet_stream(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a")])
    v1 = client.CoreV1Api(make_client(server))
    started = time.monotonic()
    events = list(watch.Watch().stream(v1.list_pod_for_all_namespaces, resource_version="1", timeout_seconds=1))
    assert events == []
    assert 0.9 <= time.monotonic() - started < 3


@pytest.mark.parametrize("timeout", [1, None])
def test_expired_resource_version_is_410(make_server: MakeServer, make_client: MakeClient, timeout: int | None) -> None:
    server: FakeApiServer = make_server([pod("a")], history=3)
    v1 = client.CoreV1Api(make_client(server))
    stale = server.resource_version
    for i in range(10):
        server.apply(pod("a", n=str(i)))
    kwargs: dict[str, Any] = {"resource_version": str(stale)}
    if timeout is not None:
        kwargs["timeout_seconds"] = timeout
    # With a timeout the client raises at once; without, it retries once and then raises.
    with pytest.raises(client.ApiException) as caught:
        list(watch.Watch().stream(v1.list_pod_for_all_namespaces, **kwargs))
    assert caught.value.status == 410
    assert "Expired: too old resource version" in str(caught.value.reason)
    # A resourceVersion inside the retained window still works.
    recent = server.resource_version - 2
    events = list(watch.Watch().stream(v1.list_pod_for_all_namespaces, resource_version=str(recent), timeout_seconds=1))
    assert [e["type"] for e in events] == ["MODIFIED", "MODIFIED"]


def test_watch_is_a_chunked_json_stream(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a")])
    v1 = client.CoreV1Api(make_client(server))
    response = v1.list_pod_for_all_namespaces(watch=True, timeout_seconds=1, _preload_content=False)
    try:
        assert response.headers["Transfer-Encoding"] == "chunked"
        lines = [orjson.loads(line) for line in response.read().splitlines()]
    finally:
        response.release_conn()
    assert lines[0]["type"] == "ADDED"
    assert lines[0]["object"]["kind"] == "Pod"


def test_custom_resource_watch(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([crd("example.com", "Widget", "widgets")], bookmark_interval=0.2)
    custom = client.CustomObjectsApi(make_client(server))
    driver = later(0.2, lambda: server.create(obj("example.com/v1", "Widget", "w", "shop", spec={"size": 1})))
    events = list(
        watch.Watch().stream(
            custom.list_namespaced_custom_object, "example.com", "v1", "shop", "widgets", timeout_seconds=1
        )
    )
    driver.join()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w")]


def test_dropped_watch_connection_surfaces(make_server: MakeServer, make_client: MakeClient) -> None:
    server = make_server([pod("a"), pod("b")])
    fault = server.inject("/api/v1/pods", query="watch=", drop="mid")
    v1 = client.CoreV1Api(make_client(server))
    received: list[str] = []

    def consume() -> None:
        for event in watch.Watch().stream(v1.list_pod_for_all_namespaces, timeout_seconds=5):
            received.append(event["object"].metadata.name)

    with pytest.raises(urllib3.exceptions.ProtocolError):
        consume()
    assert received == ["a"]
    assert fault.hits == 1
