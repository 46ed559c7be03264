"""The watch loop end to end: the fake API server, the official client, a real store (SQLite and
PostgreSQL), findings opened, resolved and reopened as objects change."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import URL

from stockade.store import Change, FindingStore
from stockade.testing import FakeApiServer
from tests.watch.support import privileged_pod, running, wait_until


def _url(store_url: URL) -> str:
    return store_url.render_as_string(hide_password=False)


def _changes(store: FindingStore) -> list[tuple[str, str]]:
    return [(t.resource.name, t.change.value) for t in store.transitions("test")]


def test_changes_are_judged_stored_and_told(store_url: URL, tmp_path: Path) -> None:
    with FakeApiServer([privileged_pod("old")], bookmark_interval=0.2) as server:
        with running(server, tmp_path, _url(store_url)) as (service, sink):
            wait_until(lambda: ("WL-001", "old", "opened") in sink.changes(), what="the first reconcile")
            server.create(privileged_pod("new"))
            wait_until(lambda: ("WL-001", "new", "opened") in sink.changes(), what="the new pod's finding")
            server.update(privileged_pod("old", privileged=False))
            wait_until(lambda: ("WL-001", "old", "resolved") in sink.changes(), what="the fix")
            server.update(privileged_pod("old"))
            wait_until(lambda: ("WL-001", "old", "reopened") in sink.changes(), what="the regression")
            server.delete("v1", "Pod", "new", "shop")
            wait_until(lambda: ("WL-001", "new", "resolved") in sink.changes(), what="the deletion")
            assert service.watcher.status.problems == {}
        with FindingStore.open(_url(store_url)) as store:
            assert _changes(store) == [
                ("old", "opened"),
                ("new", "opened"),
                ("old", "resolved"),
                ("old", "reopened"),
                ("new", "resolved"),
            ]
            assert [f.resource.name for f in store.open_findings("test")] == ["old"]
            stored = _changes(store)
            transition = store.transitions("test")[2]
            assert transition.resource_version is not None
            state = store.object_state(transition.object_state_id or 0)
            assert state is not None and state["spec"]["containers"][0]["securityContext"] == {"privileged": False}
        # Every told event is a stored transition, and the other way round.
        assert [(e.resource.name, e.change) for e in sink.events] == [(n, Change(c)) for n, c in stored]


def test_a_restart_sees_what_changed_while_nobody_watched(store_url: URL, tmp_path: Path) -> None:
    with FakeApiServer([privileged_pod("a"), privileged_pod("b")], bookmark_interval=0.2) as server:
        with running(server, tmp_path, _url(store_url), name="first") as (_, sink):
            wait_until(lambda: len(sink.changes()) == 2, what="the first reconcile")
        server.delete("v1", "Pod", "a", "shop")
        server.create(privileged_pod("c"))
        with running(server, tmp_path, _url(store_url), name="second") as (_, sink):
            wait_until(lambda: len(sink.changes()) == 2, what="the second reconcile")
            assert sorted(sink.changes()) == [("WL-001", "a", "resolved"), ("WL-001", "c", "opened")]
        with FindingStore.open(_url(store_url)) as store:
            assert sorted(_changes(store)) == [("a", "opened"), ("a", "resolved"), ("b", "opened"), ("c", "opened")]


def test_an_object_deleted_while_disconnected_is_resolved_after_the_relist(store_url: URL, tmp_path: Path) -> None:
    with (
        FakeApiServer([privileged_pod("a"), privileged_pod("b")], bookmark_interval=0.2) as server,
        running(server, tmp_path, _url(store_url)) as (service, sink),
    ):
        wait_until(lambda: len(sink.changes()) == 2, what="the first reconcile")
        server.inject("/api/v1/pods", query="watch=true", status=503, times=10_000)
        server.drop_connections()
        wait_until(lambda: bool(service.watcher.status.problems), what="the watch to fail")
        server.delete("v1", "Pod", "a", "shop")
        server.compact()
        server.clear_faults()
        wait_until(lambda: ("WL-001", "a", "resolved") in sink.changes(), what="the relist")
        assert ("WL-001", "b", "resolved") not in sink.changes()


def test_a_forbidden_kind_keeps_its_findings(store_url: URL, tmp_path: Path) -> None:
    with FakeApiServer([privileged_pod("a")], bookmark_interval=0.2) as server:
        with running(server, tmp_path, _url(store_url), name="first") as (_, sink):
            wait_until(lambda: len(sink.changes()) == 1, what="the first reconcile")
        server.forbid("pods")
        with running(server, tmp_path, _url(store_url), name="second") as (service, sink):
            wait_until(lambda: service.watcher.status.reconciles == 1, what="the reconcile")
            assert any("pods" in problem for problem in service.watcher.status.problems.values())
            assert sink.changes() == []  # unread is not fixed
            server.allow("pods")
            server.delete("v1", "Pod", "a", "shop")
            wait_until(lambda: ("WL-001", "a", "resolved") in sink.changes(), what="reading pods again")


def test_two_watchers_with_leader_election_exactly_one_writes(store_url: URL, tmp_path: Path) -> None:
    quick = {"leader_elect": True, "lease_timing": (1.0, 0.6, 0.1)}
    with FakeApiServer([privileged_pod("a")], bookmark_interval=0.2) as server, ExitStack() as both:
        stack_one, stack_two = both.enter_context(ExitStack()), both.enter_context(ExitStack())
        url = _url(store_url)
        one, told_one = stack_one.enter_context(running(server, tmp_path, url, name="one", identity="one", **quick))
        two, told_two = stack_two.enter_context(running(server, tmp_path, url, name="two", identity="two", **quick))

        def told() -> int:
            return len(told_one.changes()) + len(told_two.changes())

        wait_until(lambda: told() == 1, what="the first reconcile")
        for n in range(3):
            server.create(privileged_pod(f"p{n}"))
        wait_until(lambda: told() == 4, what="the new pods")
        writers = [w for w in (one, two) if w.watcher.status.written]
        assert len(writers) == 1  # the standby judged everything too, and wrote nothing
        if writers[0] is two:  # make "one" the leader's name for the rest
            one, two, told_one, told_two = two, one, told_two, told_one
            stack_one, stack_two = stack_two, stack_one
        assert two.watcher.status.synced and two.watcher.status.written == 0
        stack_one.close()  # the leader stops and releases the Lease; the standby takes over
        server.create(privileged_pod("p3"))
        wait_until(lambda: ("WL-001", "p3", "opened") in told_two.changes(), what="the new leader's first write")
        assert told_two.changes() == [("WL-001", "p3", "opened")]  # its reconcile repeated nothing
    with FindingStore.open(_url(store_url)) as store:
        names = sorted(t.resource.name for t in store.transitions("test"))
    assert names == ["a", "p0", "p1", "p2", "p3"]


def test_object_history_keeps_every_version_seen(store_url: URL, tmp_path: Path) -> None:
    import sqlalchemy as sa

    from stockade.store.schema import object_versions

    with (
        FakeApiServer([privileged_pod("a")], bookmark_interval=0.2) as server,
        running(server, tmp_path, _url(store_url), record_objects=True) as (_, sink),
        FindingStore.open(_url(store_url)) as store,
        store.engine.connect() as conn,
    ):

        def versions() -> list[tuple[str, bool]]:
            rows = conn.execute(sa.select(object_versions.c.name, object_versions.c.deleted)).all()
            conn.rollback()  # the next look sees later commits
            return sorted((row.name, bool(row.deleted)) for row in rows)

        wait_until(lambda: len(sink.changes()) == 1, what="the first reconcile")
        server.create(privileged_pod("b", privileged=False))  # no finding, still a version
        wait_until(lambda: ("b", False) in versions(), what="b to be kept")
        server.delete("v1", "Pod", "b", "shop")
        wait_until(lambda: ("b", True) in versions(), what="the deletion of b to be kept")
        assert versions() == [("a", False), ("b", False), ("b", True)]
