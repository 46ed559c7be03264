"""The informers: list then watch, bookmarks, resume, 410 relist, forbidden kinds, dropped streams,
against the fake API server with the official client."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stockade.errors import SourceError
from stockade.sources.cluster_watch import (
    Changed,
    ClusterWatch,
    Listed,
    WatchItem,
    WatchProblem,
    open_watch,
)
from stockade.testing import FakeApiServer
from tests.testing.objects import deployment, pod, secret
from tests.watch.support import FAST


class Collector:
    """Everything the informers emit, with a way to wait for a condition."""

    def __init__(self) -> None:
        self.items: list[WatchItem] = []
        self._cond = threading.Condition()

    def __call__(self, item: WatchItem) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, test: Callable[[list[WatchItem]], bool], timeout: float = 10.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: test(self.items), timeout), self.items

    def of(self, kind: type) -> list[WatchItem]:
        with self._cond:
            return [i for i in self.items if isinstance(i, kind)]


def names(items: list[WatchItem]) -> list[tuple[str, bool]]:
    return [(i.object.name, i.deleted) for i in items if isinstance(i, Changed)]


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[Callable[..., tuple[ClusterWatch, Collector]]]:
    opened: list[ClusterWatch] = []

    def start(server: FakeApiServer, kinds: list[str], **options: object) -> tuple[ClusterWatch, Collector]:
        collector = Collector()
        config = server.kubeconfig(tmp_path / "kubeconfig")
        watch = open_watch(collector, kinds=kinds, kubeconfig=str(config), timing=FAST, **options)  # type: ignore[arg-type]
        opened.append(watch)
        watch.start()
        return watch, collector

    yield start
    for watch in opened:
        watch.stop()


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer([pod("a"), pod("b", "shop"), deployment("web")], bookmark_interval=0.2) as fake:
        yield fake
        assert fake.errors == []


def test_lists_then_watches_changes_in_order(server: FakeApiServer, watching) -> None:
    _watch, got = watching(server, ["pods"])
    got.wait(lambda items: any(isinstance(i, Listed) for i in items))
    (listed,) = got.of(Listed)
    assert sorted(r.name for r in listed.resources) == ["a", "b"]
    assert not listed.relist
    assert listed.resource_version == str(server.resource_version)
    server.create(pod("c"))
    changed = server.get("v1", "Pod", "a", "default")
    assert changed is not None
    changed["metadata"]["labels"] = {"x": "y"}
    server.update(changed)
    server.delete("v1", "Pod", "b", "shop")
    got.wait(lambda items: len(names(items)) == 3)
    assert names(got.items) == [("c", False), ("a", False), ("b", True)]
    # The watch started where the list left off: nothing listed was delivered again.


def test_bookmarks_move_the_resource_version_forward(server: FakeApiServer, watching) -> None:
    watch, got = watching(server, ["pods"])
    got.wait(lambda items: bool(items))
    (informer,) = watch.informers
    start = int(informer.resource_version)
    server.create(deployment("other"))  # another kind: the pod watch sees only a bookmark
    deadline = time.monotonic() + 5
    while int(informer.resource_version) <= start and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int(informer.resource_version) == server.resource_version
    assert names(got.items) == []


def test_a_dropped_stream_resumes_from_the_last_version(server: FakeApiServer, watching) -> None:
    watch, got = watching(server, ["pods"])
    got.wait(lambda items: bool(items))
    server.create(pod("c"))
    got.wait(lambda items: len(names(items)) == 1)
    (informer,) = watch.informers
    seen = informer.resource_version
    # The stream breaks; the next watch (held 0.5 s, while d and e are made) is cut after its first event.
    server.inject("/api/v1/pods", query="watch=true", delay=0.5, drop="mid", times=1)
    server.drop_connections()
    server.create(pod("d"))
    server.create(pod("e"))
    got.wait(lambda items: {n for n, _ in names(items)} >= {"c", "d", "e"})
    time.sleep(0.3)
    assert [n for n, _ in names(got.items)] == ["c", "d", "e"]  # each exactly once, in order
    assert len(got.of(Listed)) == 1  # resumed, not relisted
    assert informer.resumes >= 2
    assert int(informer.resource_version) > int(seen)


def test_an_object_deleted_while_disconnected_is_seen_after_the_relist(server: FakeApiServer, watching) -> None:
    _watch, got = watching(server, ["pods"])
    got.wait(lambda items: bool(items))
    server.inject("/api/v1/pods", query="watch=true", status=503, times=10_000)
    server.drop_connections()  # the open watch ends; reconnecting fails for now
    got.wait(lambda items: any(isinstance(i, WatchProblem) and i.status == 503 for i in items))
    server.delete("v1", "Pod", "a", "default")
    server.create(pod("late"))
    server.compact()  # and the history the watch would resume from is gone
    server.clear_faults()
    got.wait(lambda items: any(isinstance(i, Listed) and i.relist for i in items))
    relist = next(i for i in got.of(Listed) if isinstance(i, Listed) and i.relist)
    assert sorted(r.name for r in relist.resources) == ["b", "late"]
    assert names(got.items) == []  # nothing seen as an event: only the relist tells


def test_a_410_status_on_resume_gives_a_relist(server: FakeApiServer, watching) -> None:
    watch, got = watching(server, ["pods"])
    got.wait(lambda items: bool(items))
    # Several 410s: a cut connection can swallow the first answer.
    fault = server.inject("/api/v1/pods", query="watch=true", status=410, times=3)
    server.drop_connections()
    got.wait(lambda items: any(isinstance(i, Listed) and i.relist for i in items))
    assert all(p.status != 410 for p in got.of(WatchProblem))  # 410 is the protocol working, not a problem
    (informer,) = watch.informers
    assert informer.lists >= 2 and fault.hits >= 1
    server.create(pod("after"))

    def seen_after(items: list[WatchItem]) -> bool:  # as an event, or in a later relist
        return ("after", False) in names(items) or any(
            isinstance(i, Listed) and "after" in {r.name for r in i.resources} for i in items
        )

    got.wait(seen_after)


def test_a_forbidden_kind_is_reported_and_retried(server: FakeApiServer, watching) -> None:
    server.forbid("deployments.apps")
    _watch, got = watching(server, ["pods", "deployments"])
    got.wait(
        lambda items: any(isinstance(i, WatchProblem) for i in items) and any(isinstance(i, Listed) for i in items)
    )
    problem = got.of(WatchProblem)[0]
    assert isinstance(problem, WatchProblem)
    assert problem.status == 403
    assert "deployments" in problem.message and "missing RBAC" in problem.message
    assert [i.resource.name for i in got.of(Listed)] == ["pods"]  # never an empty list of deployments
    server.allow("deployments.apps")
    got.wait(lambda items: any(isinstance(i, Listed) and i.resource.name == "deployments" for i in items))
    (listed,) = [i for i in got.of(Listed) if i.resource.name == "deployments"]
    assert [r.name for r in listed.resources] == ["web"]


def test_a_slow_server_still_delivers(server: FakeApiServer, watching) -> None:
    server.inject("*", delay=0.3, times=4)
    _watch, got = watching(server, ["pods"])
    got.wait(lambda items: any(isinstance(i, Listed) for i in items), timeout=15)
    server.create(pod("slow"))
    got.wait(lambda items: ("slow", False) in names(items), timeout=15)


def test_secrets_are_blanked_on_arrival(watching) -> None:
    with FakeApiServer([secret("db", "shop", {"password": "hunter2-planted"})], bookmark_interval=0.2) as fake:
        _watch, got = watching(fake, ["secrets"])
        got.wait(lambda items: bool(items))
        fake.create(secret("api", "shop", {"token": "planted-token-value"}))
        got.wait(lambda items: len(names(items)) == 1)
        text = repr(got.items)
        for planted in ("hunter2-planted", "planted-token-value"):
            assert planted not in text
            assert base64.b64encode(planted.encode()).decode() not in text
        (listed,) = got.of(Listed)
        assert "password" in listed.resources[0].raw["data"]  # the key is kept


def test_an_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    fake = FakeApiServer().start()
    config = fake.kubeconfig(tmp_path / "kubeconfig")
    fake.stop()
    with pytest.raises(SourceError, match="cannot reach the cluster"):
        open_watch(lambda _i: None, kinds=["pods"], kubeconfig=str(config), timing=FAST)


def test_unknown_kinds_are_named(server: FakeApiServer, watching) -> None:
    watch, _ = watching(server, ["pods", "frobnicators"])
    assert watch.unmatched == ["frobnicators"]
    assert [i.resource.name for i in watch.informers] == ["pods"]


def test_namespaces_confine_the_watch(server: FakeApiServer, watching) -> None:
    watch, got = watching(server, ["pods", "clusterroles"], namespaces=["shop"])
    assert [(i.resource.name, i.namespace) for i in watch.informers] == [("pods", "shop")]
    got.wait(lambda items: bool(items))
    (listed,) = got.of(Listed)
    assert [r.name for r in listed.resources] == ["b"]
    server.create(pod("x", "other"))
    server.create(pod("y", "shop"))
    got.wait(lambda items: bool(names(items)))
    time.sleep(0.2)
    assert names(got.items) == [("y", False)]
