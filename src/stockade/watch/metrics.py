"""Prometheus metrics of ``stockade watch``, on a registry of their own (never the global one, so
two watchers in one process, or the tests, do not share counts).

:class:`WatchMetrics` is what the watcher tells (its ``WatchObserver`` methods) and what the sinks
tell (``sink_dropped`` / ``sink_failed``); :mod:`.server` serves it at ``/metrics``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from stockade import __version__
from stockade.store.lifecycle import Change

FindingLabels = tuple[str, str, str]  # (severity, rule, namespace); namespace "" for cluster-scoped

# From a fast write (tens of ms) to a store outage retried for minutes.
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class _Transition(Protocol):
    @property
    def change(self) -> Change: ...


class WatchMetrics:
    """The watcher's metrics (each metric is described in its help text)."""

    def __init__(
        self, *, version: str = __version__, sinks: Iterable[str] = (), clock: Callable[[], float] = time.time
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._finding_counts: dict[FindingLabels, int] = {}
        r = self.registry
        self.findings = Gauge("stockade_findings", "Open findings now", ["severity", "rule", "namespace"], registry=r)
        self.watch_events = Counter(
            "stockade_watch_events", "Watch events received, by kind and type", ["kind", "type"], registry=r
        )
        self.transitions = Counter(
            "stockade_transitions", "Finding transitions written to the store", ["change"], registry=r
        )
        self.store_errors = Counter("stockade_store_errors", "Failed writes to the history store", registry=r)
        self.sink_dropped_events = Counter(
            "stockade_sink_dropped", "Events a sink dropped without trying (queue full, closing)", ["sink"], registry=r
        )
        self.sink_failed_events = Counter(
            "stockade_sink_failed", "Events a sink tried and gave up on", ["sink"], registry=r
        )
        self.event_to_store = Histogram(
            "stockade_event_to_store_seconds",
            "Lag from receiving a watch event to storing the transitions it caused",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.forbidden_kinds = Gauge(
            "stockade_watch_forbidden_kinds", "Resources the watcher may not list or watch", registry=r
        )
        self.leader = Gauge("stockade_leader", "1 while this replica is the leader (the one that writes)", registry=r)
        self.store_buffered = Gauge(
            "stockade_store_buffered_batches", "Batches waiting for the store (it is away)", registry=r
        )
        self.last_sync = Gauge(
            "stockade_last_sync_timestamp_seconds",
            "When everything the watcher had seen was last stored (Unix time; 0: not yet)",
            registry=r,
        )
        self.build_info = Gauge("stockade_build_info", "The running Stockade version", ["version"], registry=r)
        self.build_info.labels(version=version).set(1)
        for change in Change:  # every series exists from the start: rate() needs the zero
            self.transitions.labels(change=change.value)
        for sink in sinks:
            self.track_sink(sink)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    # -- findings ----------------------------------------------------------------------------
    def set_findings(self, counts: Mapping[FindingLabels, int]) -> None:
        """Set the open-finding gauges to ``counts``; a label set absent or at zero is removed (a
        gauge left at its last value would keep alerting on findings long resolved)."""
        current = {labels: count for labels, count in counts.items() if count > 0}
        with self._lock:
            for labels in self._finding_counts.keys() - current.keys():
                self.findings.remove(*labels)
            for labels, count in current.items():
                if self._finding_counts.get(labels) != count:  # thousands of label sets: set what moved
                    self.findings.labels(*labels).set(count)
            self._finding_counts = current

    # -- what the watcher tells (stockade.watch.watcher.WatchObserver) -----------------------
    def events_seen(self, kind: str, event_type: str, count: int = 1) -> None:
        self.watch_events.labels(kind=kind, type=event_type).inc(count)

    def transitions_written(self, written: Sequence[_Transition], lag: float) -> None:
        for transition in written:
            self.transitions.labels(change=transition.change.value).inc()
        self.event_to_store.observe(max(0.0, lag))

    def store_failed(self) -> None:
        self.store_errors.inc()

    def findings_now(self, counts: Mapping[FindingLabels, int]) -> None:
        self.set_findings(counts)

    def state(self, *, forbidden: int, buffered: int, leader: bool, synced: bool) -> None:
        """The loop's state; a synced replica with nothing waiting for the store is in sync now."""
        self.forbidden_kinds.set(forbidden)
        self.store_buffered.set(buffered)
        self.leader.set(1 if leader else 0)
        if synced and buffered == 0:
            self.last_sync.set(self._clock())

    # -- what the sinks tell (stockade.watch.sinks.SinkObserver) -----------------------------
    def track_sink(self, sink: str) -> None:
        """Show ``sink``'s counters at zero before anything is dropped or fails."""
        self.sink_dropped_events.labels(sink=sink)
        self.sink_failed_events.labels(sink=sink)

    def sink_dropped(self, sink: str, count: int) -> None:
        self.sink_dropped_events.labels(sink=sink).inc(count)

    def sink_failed(self, sink: str, count: int) -> None:
        self.sink_failed_events.labels(sink=sink).inc(count)
