"""The metrics and health server over real HTTP (urllib.request against uvicorn on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stockade import __version__
from stockade.store.lifecycle import Change
from stockade.watch.metrics import WatchMetrics
from stockade.watch.server import HealthServer, HealthState, health_of

HEALTHY = HealthState(heartbeat_age=0.5, synced=True, store_ok=True)


class Health:
    """What the server reads, changed by the test between requests."""

    def __init__(self, state: HealthState = HEALTHY) -> None:
        self.state = state

    def __call__(self) -> HealthState:
        return self.state


@dataclass
class Served:
    server: HealthServer
    metrics: WatchMetrics
    health: Health


@pytest.fixture
def served() -> Iterator[Served]:
    metrics = WatchMetrics()
    health = Health()
    server = HealthServer(metrics, health=health).start()
    try:
        yield Served(server, metrics, health)
    finally:
        server.stop()


def _get(url: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers.items())


def _json(url: str) -> tuple[int, Any]:
    status, body, _ = _get(url)
    return status, json.loads(body)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@dataclass
class LoopStatus:
    """The fields of the watcher's WatchStatus that health_of reads."""

    heartbeat: float
    synced: bool
    store_ok: bool
    problems: dict[tuple[str, str, str | None], str]


@dataclass(frozen=True)
class _Written:
    change: Change


def test_metrics_after_updates(served: Served) -> None:
    m = served.metrics
    m.set_findings({("high", "WL-001", "shop"): 3, ("critical", "RB-002", ""): 1})
    m.events_seen("Pod", "LISTED", 40)
    m.events_seen("Pod", "CHANGED")
    m.transitions_written([_Written(Change.OPENED), _Written(Change.OPENED), _Written(Change.RESOLVED)], lag=0.3)
    m.store_failed()
    m.sink_dropped("webhook", 120)
    m.sink_failed("webhook", 2)
    m.state(forbidden=2, buffered=4, leader=True, synced=True)
    status, body, headers = _get(served.server.url + "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(body)
    assert samples[("stockade_findings", (("namespace", "shop"), ("rule", "WL-001"), ("severity", "high")))] == 3
    assert samples[("stockade_findings", (("namespace", ""), ("rule", "RB-002"), ("severity", "critical")))] == 1
    assert samples[("stockade_watch_events_total", (("kind", "Pod"), ("type", "LISTED")))] == 40
    assert samples[("stockade_watch_events_total", (("kind", "Pod"), ("type", "CHANGED")))] == 1
    assert samples[("stockade_transitions_total", (("change", "opened"),))] == 2
    assert samples[("stockade_transitions_total", (("change", "resolved"),))] == 1
    assert samples[("stockade_transitions_total", (("change", "reopened"),))] == 0  # present from the start
    assert samples[("stockade_store_errors_total", ())] == 1
    assert samples[("stockade_sink_dropped_total", (("sink", "webhook"),))] == 120
    assert samples[("stockade_sink_failed_total", (("sink", "webhook"),))] == 2
    assert samples[("stockade_event_to_store_seconds_count", ())] == 1
    assert samples[("stockade_event_to_store_seconds_bucket", (("le", "0.25"),))] == 0
    assert samples[("stockade_event_to_store_seconds_bucket", (("le", "0.5"),))] == 1
    assert samples[("stockade_watch_forbidden_kinds", ())] == 2
    assert samples[("stockade_store_buffered_batches", ())] == 4
    assert samples[("stockade_leader", ())] == 1
    assert samples[("stockade_last_sync_timestamp_seconds", ())] == 0  # batches still wait for the store
    assert samples[("stockade_build_info", (("version", __version__),))] == 1


def test_findings_that_go_to_zero_or_away_lose_their_series(served: Served) -> None:
    m = served.metrics
    m.set_findings({("high", "WL-001", "shop"): 3, ("low", "NS-001", "default"): 1, ("medium", "NP-001", "a"): 2})
    m.findings_now({("high", "WL-001", "shop"): 2, ("low", "NS-001", "default"): 0})
    findings = {
        k: v for k, v in _samples(_get(served.server.url + "/metrics")[1]).items() if k[0] == "stockade_findings"
    }
    assert findings == {("stockade_findings", (("namespace", "shop"), ("rule", "WL-001"), ("severity", "high"))): 2}
    m.set_findings({})
    assert "stockade_findings{" not in _get(served.server.url + "/metrics")[1]


def test_last_sync_and_leader_follow_the_loop_state() -> None:
    clock = iter([1_700_000_000.0, 1_700_000_060.0])
    metrics = WatchMetrics(clock=lambda: next(clock), sinks=["webhook", "jsonl"])
    value = metrics.registry.get_sample_value
    metrics.state(forbidden=0, buffered=0, leader=False, synced=False)
    assert value("stockade_last_sync_timestamp_seconds") == 0
    metrics.state(forbidden=0, buffered=0, leader=True, synced=True)
    assert value("stockade_last_sync_timestamp_seconds") == 1_700_000_000.0
    assert value("stockade_leader") == 1
    metrics.state(forbidden=1, buffered=0, leader=False, synced=True)
    assert value("stockade_last_sync_timestamp_seconds") == 1_700_000_060.0
    assert value("stockade_leader") == 0
    assert value("stockade_sink_dropped_total", {"sink": "jsonl"}) == 0  # tracked sinks start at zero


def test_each_metrics_object_has_its_own_registry() -> None:
    from prometheus_client import REGISTRY

    first, second = WatchMetrics(), WatchMetrics()
    first.store_failed()
    assert second.registry.get_sample_value("stockade_store_errors_total") == 0
    assert REGISTRY.get_sample_value("stockade_store_errors_total") is None


def test_healthz_follows_the_heartbeat(served: Served) -> None:
    status, body = _json(served.server.url + "/healthz")
    assert (status, body["ok"], body["problems"]) == (200, True, [])
    served.health.state = replace(HEALTHY, heartbeat_age=45.0)
    status, body = _json(served.server.url + "/healthz")
    assert status == 503
    assert body["problems"] == ["the watch loop has not turned for 45s (limit 30s)"]
    served.health.state = replace(HEALTHY, heartbeat_age=1.0, synced=False, store_ok=False)
    assert _json(served.server.url + "/healthz")[0] == 200  # alive, even while not ready


def test_readyz_reasons(served: Served) -> None:
    url = served.server.url + "/readyz"
    assert _json(url) == (200, {"ok": True, "role": "single", "problems": [], "notes": []})
    served.health.state = replace(HEALTHY, synced=False)
    assert _json(url)[1]["problems"] == ["the initial list of the cluster is not done"]
    served.health.state = replace(HEALTHY, store_ok=False, notes=("cannot watch secrets: forbidden",))
    status, body = _json(url)
    assert status == 503
    assert body["problems"] == ["the history store is unreachable"]
    assert body["notes"] == ["cannot watch secrets: forbidden"]
    served.health.state = replace(HEALTHY, heartbeat_age=99.0, synced=False, store_ok=False)
    assert len(_json(url)[1]["problems"]) == 3


def test_with_leader_election_a_healthy_standby_is_ready(served: Served) -> None:
    url = served.server.url + "/readyz"
    standby = replace(HEALTHY, leader_election=True, leader=False, synced=False, store_ok=False)
    served.health.state = standby
    assert _json(url) == (200, {"ok": True, "role": "standby", "problems": [], "notes": []})
    served.health.state = replace(standby, heartbeat_age=60.0)  # a stuck standby is not
    assert _json(url)[0] == 503
    served.health.state = replace(standby, leader=True)  # the leader must be synced and reach the store
    status, body = _json(url)
    assert (status, body["role"]) == (503, "leader")
    assert body["problems"] == ["the initial list of the cluster is not done", "the history store is unreachable"]


def test_unknown_paths_and_methods(served: Served) -> None:
    assert _get(served.server.url + "/")[0] == 404
    assert _get(served.server.url + "/metrics/../admin")[0] == 404
    assert _get(served.server.url + "/debug?token=x")[0] == 404
    for path in ("/metrics", "/healthz", "/readyz"):
        assert _get(served.server.url + path, method="POST")[0] == 405
        assert _get(served.server.url + path, method="DELETE")[0] == 405
    assert _get(served.server.url + "/healthz", method="HEAD")[0] == 200


def test_binds_to_loopback_by_default_and_to_the_host_given() -> None:
    server = HealthServer(WatchMetrics(), health=Health()).start()
    try:
        assert server.host == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0
        assert server.bound == ("127.0.0.1", server.port)  # the listening socket itself
        with socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
        other = _a_non_loopback_address()
        if other is not None:  # the machine has another address: the server must not answer there
            with pytest.raises(OSError):
                socket.create_connection((other, server.port), timeout=2).close()
    finally:
        server.stop()
    everywhere = HealthServer(WatchMetrics(), host="0.0.0.0", health=Health()).start()
    try:
        assert everywhere.url.startswith("http://0.0.0.0:")
        assert everywhere.bound == ("0.0.0.0", everywhere.port)
        assert _get(f"http://127.0.0.1:{everywhere.port}/healthz")[0] == 200
    finally:
        everywhere.stop()


def test_a_port_in_use_is_said_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            HealthServer(WatchMetrics(), port=port, health=Health()).start()


def test_stop_releases_the_port() -> None:
    server = HealthServer(WatchMetrics(), health=Health()).start()
    port = server.port
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_no_access_log_lines(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        _get(served.server.url + "/healthz?token=sekret")
        _get(served.server.url + "/nothing?token=sekret")
    assert not [r for r in caplog.records if "sekret" in r.getMessage()]


def test_health_of_a_watch_status() -> None:
    class Lease:
        is_leader = False

    status = LoopStatus(heartbeat=100.0, synced=True, store_ok=False, problems={("", "secrets", None): "forbidden"})
    state = health_of(status, Lease(), heartbeat_limit=20.0, now=lambda: 130.0)
    assert state == HealthState(
        heartbeat_age=30.0,
        synced=True,
        store_ok=False,
        heartbeat_limit=20.0,
        leader_election=True,
        leader=False,
        notes=("forbidden",),
    )
    assert health_of(status, None, now=lambda: 101.0).role == "single"


def _a_non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address
