"""The watch loop: informers in, findings judged as objects change, transitions stored and told.

::

    informers ──► queue ──► loop: apply to the held objects ──► IncrementalEvaluator.flush()
                                    │                                   │ (what changed)
                                    ▼                                   ▼
                         PolicyReports, metrics          Pending batches ──► FindingStore.record_changes
                                                                              │ (transitions written)
                                                                              ▼
                                                                         sinks (JSON lines, webhook)

- Until every informer has listed once (or said why it cannot), nothing is judged: a half-read
  cluster must not resolve findings.
- The first judgement, and each time this replica becomes the leader, is reconciled against the
  store: every finding held now is recorded, and every unresolved finding the store holds for a
  kind that was read and that is no longer found is resolved. That is how a restart (also after
  SIGKILL, mid-batch: a batch is one transaction) loses no transition: what changed while nobody
  watched is seen in the diff.
- Later steps record only what changed. While the store is away the batches wait, in order
  (:mod:`.batches`), and are retried with backoff; the outage is reported and counted.
- With leader election, only the leader writes (checked before each write); a standby keeps its
  objects and findings warm and reconciles when it takes over.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from stockade.engine.incremental import IncrementalEvaluator
from stockade.model.finding import Finding
from stockade.model.resource import Resource
from stockade.model.result import ScanResult
from stockade.sources.cluster_watch import ClusterWatch, Listed, WatchItem, WatchProblem, WatchTiming
from stockade.store import FindingStore, ObjectKey, StoreError
from stockade.store.objects import RawObject
from stockade.store.store import Written
from stockade.watch.batches import Batch, Pending, objects_for
from stockade.watch.events import TransitionEvent

log = logging.getLogger("stockade.watch")

Feed = tuple[str, str, str | None]  # (group, plural, namespace): what one informer delivers
Identity = tuple[str, str, str | None, str]  # (group, kind, namespace, name)


class EventSink(Protocol):
    def send(self, events: Sequence[TransitionEvent]) -> None: ...


class Leadership(Protocol):
    @property
    def is_leader(self) -> bool: ...


class ReportWriter(Protocol):
    def sync(self, result: ScanResult) -> object: ...


class WatchObserver(Protocol):
    """What the watcher tells its metrics (every method cheap; called from the loop thread)."""

    def events_seen(self, kind: str, event_type: str, count: int = 1) -> None: ...
    def transitions_written(self, written: Sequence[Written], lag: float) -> None: ...
    def store_failed(self) -> None: ...
    def findings_now(self, counts: Mapping[tuple[str, str, str], int]) -> None: ...
    def state(self, *, forbidden: int, buffered: int, leader: bool, synced: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """How the loop paces itself. ``batch_interval``: the longest an event waits before it is
    judged; ``store_retry``: the first wait after a failed write (doubling up to ``store_retry_max``)."""

    cluster: str
    batch_interval: float = 0.2
    max_batch_events: int = 5_000
    buffer_limit: int = 10_000
    store_retry: float = 0.5
    store_retry_max: float = 15.0
    metrics_interval: float = 2.0
    report_interval: float = 30.0
    record_objects: bool = False  # keep every observed object version too (for history replay)
    write_part: int = 5_000  # findings or object versions per store transaction
    # How often, at most, a cluster view (scorecard, attack paths, RBAC objects: the dashboard's)
    # is recorded when findings changed; None: never.
    view_interval: float | None = 600.0
    timing: WatchTiming = field(default_factory=WatchTiming)


@dataclass(slots=True)
class WatchStatus:
    """What health checks read (written by the loop thread only)."""

    heartbeat: float = field(default_factory=time.monotonic)
    synced: bool = False
    store_ok: bool = True
    forbidden: set[Feed] = field(default_factory=set)
    problems: dict[Feed, str] = field(default_factory=dict)
    buffered: int = 0
    collapsed: int = 0
    written: int = 0
    judged: int = 0  # evaluation steps that changed a finding
    reconciles: int = 0  # full judgements made (start, new leader, a kind readable again)
    reconciles_stored: int = 0  # ... and recorded


class Watcher:
    """Keeps a cluster's findings current in the store (see the module docstring)."""

    def __init__(
        self,
        watch: ClusterWatch,
        evaluator: IncrementalEvaluator,
        store: FindingStore,
        settings: WatchSettings,
        *,
        sinks: Sequence[EventSink] = (),
        leader: Leadership | None = None,
        reports: ReportWriter | None = None,
        observer: WatchObserver | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.watch = watch
        self.evaluator = evaluator
        self.store = store
        self.settings = settings
        self.sinks = list(sinks)
        self.leader = leader
        self.reports = reports
        self.observer = observer
        self.clock = clock
        self.status = WatchStatus()
        self.queue: queue.Queue[WatchItem] = queue.Queue()
        self._held: dict[Feed, dict[Identity, str]] = {}
        self._objects: dict[ObjectKey, RawObject] = {}
        self._deleted: dict[
            ObjectKey, RawObject
        ] = {}  # deleted since the last step (their last state goes with the batch)
        self._heard: set[Feed] = set()  # feeds that listed once or reported why they cannot
        self._pending = Pending(settings.buffer_limit)
        self._oldest_unjudged: float | None = None
        self._was_leader = False
        self._reconcile_due = False
        self._retry_at = 0.0
        self._store_failures = 0
        self._next_metrics = 0.0
        self._next_report = 0.0
        self._reported_findings: list[Finding] | None = None
        self._observed: dict[ObjectKey, RawObject | None] = {}  # versions seen since the last batch
        self._next_view = 0.0
        self._viewed_findings: list[Finding] | None = None
        self._view_thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------
    def emit(self, item: WatchItem) -> None:
        """Where the informers deliver (any thread)."""
        self.queue.put(item)

    def run(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set; the informers must deliver to :meth:`emit`."""
        self.watch.start()
        try:
            while not stop.is_set():
                self.step()
        finally:
            self.watch.stop()

    def step(self) -> None:
        """One turn of the loop: take what arrived, judge it, store it, tell it."""
        self.status.heartbeat = time.monotonic()
        for item in self._drain():
            self._apply(item)
        if not self.status.synced:
            self.status.synced = self._heard >= self._feeds()
            if not self.status.synced:
                return
        leading = self.leader is None or self.leader.is_leader
        if leading and (not self._was_leader or self._reconcile_due):
            self._was_leader = self._reconcile()
        elif not leading:
            self._pending.clear()  # a standby does not write; the next leader reconciles
            self.evaluator.flush()
            self._was_leader = False
        else:
            self._judge()
        if leading:
            self._write()
            self._sync_reports()
            self._record_view()
        self._observe(leading)

    # -- taking in -------------------------------------------------------------------------
    def _feeds(self) -> set[Feed]:
        return {(i.resource.group, i.resource.name, i.namespace) for i in self.watch.informers}

    def _drain(self) -> list[WatchItem]:
        items: list[WatchItem] = []
        try:
            items.append(self.queue.get(timeout=self.settings.batch_interval))
            while len(items) < self.settings.max_batch_events:
                items.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        return items

    def _apply(self, item: WatchItem) -> None:
        if isinstance(item, WatchProblem):
            feed = (item.resource.group, item.resource.name, item.namespace)
            self._heard.add(feed)
            if self.status.problems.get(feed) != item.message:
                log.warning("%s (retrying in %.0fs)", item.message, item.retry_in)
            self.status.problems[feed] = item.message
            if item.status in (401, 403, 404):
                self.status.forbidden.add(feed)
            return
        self._oldest_unjudged = min(self._oldest_unjudged or item.received, item.received)
        if isinstance(item, Listed):
            feed = (item.resource.group, item.resource.name, item.namespace)
            self._heard.add(feed)
            if feed in self.status.forbidden:
                # Findings of this kind were kept while it was unread: diff them against the store.
                self._reconcile_due = True
                self.status.forbidden.discard(feed)
            if self.status.problems.pop(feed, None) is not None:
                log.info("%s: reading again", item.resource.display)
            self._relist(feed, item.resources)
            self._count(item.resource.kind, "LISTED", len(item.resources))
            return
        feed = (item.resource.group, item.resource.name, item.object.namespace if item.resource.namespaced else None)
        feed = feed if feed in self._held else (item.resource.group, item.resource.name, None)
        held = self._held.setdefault(feed, {})
        if item.deleted:
            self._remove(held, item.object)
        else:
            self._put(held, item.object)
        self._count(item.resource.kind, "DELETED" if item.deleted else "CHANGED")

    def _relist(self, feed: Feed, resources: Iterable[Resource]) -> None:
        """Replace what a feed holds with a fresh list: what is missing from it was deleted."""
        before = self._held.get(feed, {})
        now: dict[Identity, str] = {}
        for resource in resources:
            identity = _identity(resource)
            now[identity] = _version(resource)
            if before.get(identity) != now[identity] or identity not in before:
                self._put(now, resource)
        for identity in before.keys() - now.keys():
            group, kind, namespace, name = identity
            key = ObjectKey(kind, namespace, name)
            self._deleted[key] = self._objects.pop(key, {})
            if self.settings.record_objects:
                self._observed[key] = None
            self.evaluator.delete(group, kind, namespace, name)
        self._held[feed] = now

    def _put(self, held: dict[Identity, str], resource: Resource) -> None:
        held[_identity(resource)] = _version(resource)
        key = ObjectKey(resource.kind, resource.namespace, resource.name)
        self._objects[key] = resource.raw
        if self.settings.record_objects:
            self._observed[key] = resource.raw
        self.evaluator.upsert(resource)

    def _remove(self, held: dict[Identity, str], resource: Resource) -> None:
        held.pop(_identity(resource), None)
        key = ObjectKey(resource.kind, resource.namespace, resource.name)
        self._objects.pop(key, None)
        self._deleted[key] = resource.raw
        if self.settings.record_objects:
            self._observed[key] = None
        self.evaluator.delete(resource.group, resource.kind, resource.namespace, resource.name)

    def _count(self, kind: str, event_type: str, count: int = 1) -> None:
        if self.observer is not None:
            self.observer.events_seen(kind, event_type, count)

    # -- judging ---------------------------------------------------------------------------
    def _judge(self) -> None:
        delta = self.evaluator.flush()
        if not delta and not (self.settings.record_objects and self._observed):
            self._deleted.clear()  # deleted objects with no finding to resolve: nothing to keep
            return
        keys = {ObjectKey.of(ref) for ref in delta.objects}
        self.status.judged += bool(delta)
        self._pending.add(
            Batch(
                at=self.clock(),
                current=dict(delta.changed),
                gone=set(delta.removed),
                objects=objects_for(keys, self._objects, self._deleted),
                received=self._oldest_unjudged or time.monotonic(),
                versions=self._take_observed(),
            )
        )
        self._oldest_unjudged = None
        self._deleted.clear()  # the batch holds what it needs of them

    def _take_observed(self) -> dict[ObjectKey, RawObject | None]:
        observed, self._observed = self._observed, {}
        return observed if self.settings.record_objects else {}

    def _reconcile(self) -> bool:
        """Record every finding held now, and resolve what the store holds that is gone (see the
        module docstring); kinds that could not be read keep their findings. False when the store
        could not be read (the next step tries again)."""
        self.evaluator.flush(force=True)
        # A million findings live from here on; a full collection walking them all would pause a
        # batch for seconds. Freezing moves what exists now out of the collector's sight.
        gc.freeze()
        now = dict(self.evaluator.current())
        covered = {kind for kind, feeds in self._kinds_read().items() if feeds}
        try:
            stored = self.store.open_findings(self.settings.cluster, include_excepted=True)
        except (StoreError, SQLAlchemyError) as error:
            self._store_down(error)
            return False
        gone = {f.fingerprint for f in stored if f.fingerprint not in now and f.resource.kind in covered}
        keys = {ObjectKey.of(f.resource) for f in now.values()}
        self._pending.clear()
        self._pending.add(
            Batch(
                at=self.clock(),
                current=now,
                gone=gone,
                objects=objects_for(keys, self._objects),
                received=self._oldest_unjudged or time.monotonic(),
                # Every object as it is now: the base replay starts from (unchanged ones are skipped).
                versions=dict(self._objects) if self.settings.record_objects else {},
                reconcile=True,
            )
        )
        self._observed = {}
        self._deleted.clear()
        self._oldest_unjudged = None
        self.status.reconciles += 1
        self._reconcile_due = False
        self._next_report = 0.0
        return True

    def _kinds_read(self) -> dict[str, bool]:
        """Kind -> whether every feed of it is read (none forbidden)."""
        read: dict[str, bool] = {}
        for informer in self.watch.informers:
            feed = (informer.resource.group, informer.resource.name, informer.namespace)
            kind = informer.resource.kind
            read[kind] = read.get(kind, True) and feed not in self.status.forbidden
        return read

    # -- storing ---------------------------------------------------------------------------
    def _write(self) -> None:
        if not self._pending or time.monotonic() < self._retry_at:
            return
        while self._pending.batches:
            if self.leader is not None and not self.leader.is_leader:
                return  # fencing: leadership can end between two batches
            batch = self._pending.batches[0]
            try:
                self._write_batch(batch)
            except (StoreError, SQLAlchemyError) as error:
                self._store_down(error)
                return
            self._pending.batches.popleft()
            self.status.reconciles_stored += batch.reconcile
            if not self.status.store_ok:
                log.warning(
                    "the store is back after %d failed write(s); %d batch(es) written",
                    self._store_failures,
                    1 + len(self._pending),
                )
            self.status.store_ok, self._store_failures = True, 0
        if self._pending.collapsed > self.status.collapsed:
            log.warning(
                "the store was away long enough that %d evaluation step(s) were merged: their"
                " intermediate transitions are not recorded",
                self._pending.collapsed - self.status.collapsed,
            )
            self.status.collapsed = self._pending.collapsed

    def _write_batch(self, batch: Batch) -> None:
        """Write one batch: its findings, then its object versions. A step's batch is one
        transaction; a reconcile's (a whole cluster) goes in parts, each taken out of the batch once
        committed, so memory stays bounded and a retry goes on where the last part ended (recording
        a part again would add nothing anyway)."""
        part = self.settings.write_part
        while batch.current or batch.gone:
            current = list(itertools.islice(batch.current.values(), part))
            gone = list(itertools.islice(batch.gone, max(0, part - len(current))))
            recorded = self.store.record_changes(
                self.settings.cluster, batch.at, current, gone, object_versions=batch.objects
            )
            self._stored(batch, recorded.transitions)
            for finding in current:
                del batch.current[finding.fingerprint]
            batch.gone.difference_update(gone)
        while batch.versions:
            versions = list(itertools.islice(batch.versions.items(), part))
            self.store.record_objects(self.settings.cluster, versions, batch.at)
            for key, _ in versions:
                del batch.versions[key]

    def _stored(self, batch: Batch, written: list[Written]) -> None:
        """The batch's transitions are committed: count them and tell the sinks (once: a retried
        batch records nothing twice, so it tells nothing twice)."""
        self.status.written += len(written)
        if self.observer is not None:
            self.observer.transitions_written(written, time.monotonic() - batch.received)
        if written:
            events = [TransitionEvent.of(w, self.settings.cluster, batch.at) for w in written]
            for sink in self.sinks:
                sink.send(events)

    def _store_down(self, error: Exception) -> None:
        if self.status.store_ok:
            log.warning("cannot write to the store (%s); keeping changes and retrying", _brief(error))
        self.status.store_ok = False
        self._store_failures += 1
        if self.observer is not None:
            self.observer.store_failed()
        wait = min(self.settings.store_retry_max, self.settings.store_retry * 2 ** min(self._store_failures, 10))
        self._retry_at = time.monotonic() + wait * random.uniform(0.5, 1.0)  # noqa: S311 - jitter

    # -- telling ---------------------------------------------------------------------------
    def _sync_reports(self) -> None:
        if self.reports is None or time.monotonic() < self._next_report:
            return
        findings = self.evaluator.findings()
        if findings != self._reported_findings:
            self.reports.sync(self.evaluator.result())
            self._reported_findings = findings
        self._next_report = time.monotonic() + self.settings.report_interval

    def _record_view(self) -> None:
        """Every ``view_interval``, when findings changed and the store holds them: the cluster
        view, built and written in a thread (attack paths take seconds on a large cluster)."""
        interval = self.settings.view_interval
        if interval is None or time.monotonic() < self._next_view or self._pending:
            return
        if self._view_thread is not None and self._view_thread.is_alive():
            return
        # Looked at once an interval, not every turn of the loop: the findings list can be large.
        self._next_view = time.monotonic() + interval
        findings = self.evaluator.findings()
        if findings == self._viewed_findings:
            return
        self._viewed_findings = findings
        result, at = self.evaluator.result(), self.clock()
        self._view_thread = threading.Thread(
            target=self._write_view, args=(result, at), name="stockade-watch-view", daemon=True
        )
        self._view_thread.start()

    def _write_view(self, result: ScanResult, at: dt.datetime) -> None:
        from stockade.views import record_view

        try:
            record_view(self.store, self.settings.cluster, result, at, live=True)
        except (StoreError, SQLAlchemyError) as error:
            log.warning("cannot record the cluster view (%s); trying again later", _brief(error))
            self._viewed_findings = None

    def _observe(self, leading: bool) -> None:
        self.status.buffered = len(self._pending)
        if self.observer is None or time.monotonic() < self._next_metrics:
            return
        self._next_metrics = time.monotonic() + self.settings.metrics_interval
        self.observer.findings_now(self.evaluator.failing())
        self.observer.state(
            forbidden=len(self.status.forbidden),
            buffered=len(self._pending),
            leader=leading,
            synced=self.status.synced,
        )


def _identity(resource: Resource) -> Identity:
    return (resource.group, resource.kind, resource.namespace, resource.name)


def _version(resource: Resource) -> str:
    return str(resource.metadata.get("resourceVersion") or "")


def _brief(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
