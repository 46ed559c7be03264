"""Leader election against the fake API server with the official client: one leader at a time,
clean hand-over, a partitioned leader stepping down before another takes over, 403 reported."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from stockade.testing import FakeApiServer
from stockade.watch.leader import LeaderElector, LeaseConfig
from tests.watch.proxy import TcpProxy
from tests.watch.support import wait_until

QUICK = {"lease_duration": 1.0, "renew_deadline": 0.6, "retry_period": 0.1}


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as fake:
        yield fake
        assert fake.errors == []


def _client(server: FakeApiServer, path: Path, *, port: int | None = None) -> client.ApiClient:
    kubeconfig = server.kubeconfig(path)
    api = config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    if port is not None:
        api.configuration.host = f"http://127.0.0.1:{port}"
    return api


def _elector(server: FakeApiServer, tmp_path: Path, name: str, *, port: int | None = None) -> LeaderElector:
    api = _client(server, tmp_path / f"kubeconfig-{name}", port=port)
    return LeaderElector(api, LeaseConfig(identity=name, **QUICK))


def _lease(server: FakeApiServer) -> dict[str, object]:
    found = server.get("coordination.k8s.io/v1", "Lease", "stockade-watch", "stockade")
    assert found is not None
    spec = found["spec"]
    assert isinstance(spec, dict)
    return spec


class Sampler:
    """Looks at both candidates many times a second and counts moments with two leaders."""

    def __init__(self, *electors: LeaderElector) -> None:
        self.electors = electors
        self.samples = 0
        self.both = 0
        self.leaders: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            leading = [e.identity for e in self.electors if e.is_leader]
            self.samples += 1
            self.both += len(leading) > 1
            self.leaders.update(leading)
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_one_candidate_acquires_and_renews(server: FakeApiServer, tmp_path: Path) -> None:
    elector = _elector(server, tmp_path, "a").start()
    try:
        assert elector.wait_for_leadership(5)
        first = _lease(server)["renewTime"]
        wait_until(lambda: _lease(server)["renewTime"] != first, what="a renewal")
        assert _lease(server)["holderIdentity"] == "a"
        assert elector.is_leader
    finally:
        elector.stop()
    assert _lease(server)["holderIdentity"] == ""  # released on a clean stop
    assert not elector.is_leader


def test_two_candidates_never_lead_together_and_hand_over_on_stop(server: FakeApiServer, tmp_path: Path) -> None:
    a, b = _elector(server, tmp_path, "a"), _elector(server, tmp_path, "b")
    a.start()
    assert a.wait_for_leadership(5)
    b.start()
    sampler = Sampler(a, b)
    try:
        time.sleep(2.0)  # several lease durations: b must keep waiting while a renews
        assert a.is_leader and not b.is_leader
        stopped_at = time.monotonic()
        a.stop()
        assert b.wait_for_leadership(3)
        assert time.monotonic() - stopped_at < 0.8  # released, not left to expire (1 s)
        time.sleep(0.5)
    finally:
        sampler.stop()
        b.stop()
    assert sampler.samples > 200 and sampler.both == 0
    assert sampler.leaders == {"a", "b"}
    assert b.transitions_seen == 1


def test_a_partitioned_leader_steps_down_before_another_takes_over(server: FakeApiServer, tmp_path: Path) -> None:
    with TcpProxy("127.0.0.1", server.port) as proxy:
        a = _elector(server, tmp_path, "a", port=proxy.port).start()
        assert a.wait_for_leadership(5)
        b = _elector(server, tmp_path, "b").start()
        sampler = Sampler(a, b)
        try:
            time.sleep(0.5)
            proxy.cut()  # a cannot renew any more; b still talks to the server
            cut_at = time.monotonic()
            wait_until(lambda: not a.is_leader, timeout=3, what="a to step down")
            stepped_down = time.monotonic() - cut_at
            assert b.wait_for_leadership(5)
            took_over = time.monotonic() - cut_at
        finally:
            sampler.stop()
            a.stop()
            b.stop()
    assert stepped_down <= QUICK["renew_deadline"] + 0.2
    assert took_over >= stepped_down
    assert sampler.both == 0
    assert a.problem is not None and "cannot reach" in a.problem


def test_forbidden_lease_is_reported_and_retried(server: FakeApiServer, tmp_path: Path) -> None:
    server.forbid("leases.coordination.k8s.io")
    elector = _elector(server, tmp_path, "a").start()
    try:
        wait_until(lambda: elector.problem is not None, what="the problem")
        assert "missing RBAC" in (elector.problem or "") and "leases" in (elector.problem or "")
        assert not elector.is_leader
        server.allow("leases.coordination.k8s.io")
        assert elector.wait_for_leadership(5)
        assert elector.problem is None
    finally:
        elector.stop()


def test_settings_must_nest() -> None:
    with pytest.raises(ValueError, match="retry_period < renew_deadline < lease_duration"):
        LeaseConfig(identity="x", lease_duration=5, renew_deadline=10, retry_period=2)


def test_missing_namespace_is_reported_and_retried(server: FakeApiServer, tmp_path: Path) -> None:
    # The API server answers 404 to a create in a namespace that does not exist.
    missing = server.inject("/apis/coordination.k8s.io/v1/namespaces/stockade/leases", status=404, times=3)
    elector = _elector(server, tmp_path, "a").start()
    try:
        wait_until(lambda: elector.problem is not None, what="the problem")
        assert elector.problem is not None and 'namespace "stockade"' in elector.problem
        assert "the namespace does not exist" in elector.problem
        assert not elector.is_leader
        assert elector.wait_for_leadership(5)  # the namespace "appeared": the next create succeeds
        assert missing.hits == 3 and elector.problem is None
    finally:
        elector.stop()
    assert _lease(server)["leaseTransitions"] == 0
