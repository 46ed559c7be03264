"""Running a watcher against the fake API server in a test, and reading what it stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stockade.sources.cluster import RetryPolicy
from stockade.sources.cluster_watch import WatchTiming
from stockade.testing import FakeApiServer
from stockade.watch.events import TransitionEvent
from stockade.watch.service import WatchService, WatchServiceOptions

FAST = WatchTiming(
    watch_seconds=(2, 3),
    idle_timeout=5.0,
    forbidden_retry=0.3,
    list_timeout=10.0,
    request_timeout=5.0,
    retry=RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2),
)


class Collected:
    """A sink that keeps every event."""

    def __init__(self) -> None:
        self.events: list[TransitionEvent] = []
        self._lock = threading.Lock()

    def send(self, events: Sequence[TransitionEvent]) -> None:
        with self._lock:
            self.events.extend(events)

    def changes(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return [(e.rule_id, e.resource.name, e.change.value) for e in self.events]


def privileged_pod(name: str, namespace: str = "shop", *, privileged: bool = True) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "registry.example.com/app@sha256:" + "a" * 64,
        "securityContext": {"privileged": privileged},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container]},
    }


def wait_until(test: Callable[[], bool], timeout: float = 15.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running(
    server: FakeApiServer, tmp_path: Path, store: str, *, name: str = "w", cluster: str = "test", **options: Any
) -> Iterator[tuple[WatchService, Collected]]:
    """A watch service on ``server`` recording into ``store`` as ``cluster``, running in a thread."""
    config = server.kubeconfig(tmp_path / f"kubeconfig-{name}")
    options.setdefault("kinds", ["pods", "namespaces"])
    options.setdefault("rules", ["WL-001"])
    service = WatchService.open(
        WatchServiceOptions(kubeconfig=str(config), store=store, store_cluster=cluster, timing=FAST, **options)
    )
    sink = Collected()
    service.watcher.sinks.append(sink)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield service, sink
    finally:
        stop.set()
        thread.join(10)
        service.close()
