"""The namespaces' labels, for Pod Security: read from a live cluster (list, then watch) or given.

Pod Security Admission decides by the ``pod-security.kubernetes.io/*`` labels of the namespace a
pod lands in; asking the API server on every request would cost a round trip per admission, so
the labels are kept in memory: :class:`WatchedNamespaces` lists and watches Namespaces through
:func:`stockade.sources.cluster_watch.open_watch` (a relist after 410 Gone replaces everything),
:class:`StaticNamespaces` holds a fixed mapping (tests, dry runs).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from stockade.model.resource import EMPTY
from stockade.sources.cluster_watch import (
    Changed,
    ClusterWatch,
    Listed,
    WatchItem,
    WatchProblem,
    WatchTiming,
    open_watch,
)

log = logging.getLogger("stockade.admission")


class NamespaceLabels(Protocol):
    """Where a decision reads a namespace's labels."""

    def labels(self, name: str) -> Mapping[str, object] | None:
        """The labels of namespace ``name``; None when it is not known (not there, or not listed yet)."""
        ...

    @property
    def synced(self) -> bool:
        """Whether every namespace has been read once (the webhook is ready)."""
        ...


class StaticNamespaces:
    """A fixed name → labels mapping."""

    def __init__(self, namespaces: Mapping[str, Mapping[str, object]]) -> None:
        self._labels = {name: dict(labels) for name, labels in namespaces.items()}

    def labels(self, name: str) -> Mapping[str, object] | None:
        return self._labels.get(name)

    @property
    def synced(self) -> bool:
        return True

    def set(self, name: str, labels: Mapping[str, object]) -> None:
        self._labels[name] = dict(labels)


def _labels_of(raw: Mapping[str, Any]) -> Mapping[str, object]:
    metadata = raw.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return dict(labels) if isinstance(labels, Mapping) else EMPTY


class WatchedNamespaces:
    """Every Namespace of a cluster and its labels, kept current by an informer.

    Built with :meth:`open` (raises :class:`~stockade.errors.SourceError` when the cluster cannot be
    reached); :meth:`start` begins listing; :attr:`synced` turns true with the first full list;
    :attr:`problem` says why the namespaces cannot be read (e.g. forbidden), None when they can.
    """

    def __init__(self) -> None:
        self._labels: dict[str, Mapping[str, object]] = {}
        self._lock = threading.Lock()
        self._synced = threading.Event()
        self._watch: ClusterWatch | None = None
        self.problem: str | None = None

    @classmethod
    def open(
        cls,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        timing: WatchTiming | None = None,
        credentials_dir: str | None = None,
    ) -> WatchedNamespaces:
        cache = cls()
        watch = open_watch(
            cache.emit,
            kinds=["namespaces"],
            context=context,
            kubeconfig=kubeconfig,
            timing=timing,
            credentials_dir=credentials_dir,
        )
        if not watch.informers:
            watch.stop()
            from stockade.errors import SourceError

            raise SourceError("the cluster serves no watchable Namespaces (the webhook needs their labels)")
        cache._watch = watch
        return cache

    def emit(self, item: WatchItem) -> None:
        """What the informer tells (called on its thread)."""
        if isinstance(item, Listed):
            fresh = {r.name: _labels_of(r.raw) for r in item.resources}
            with self._lock:
                self._labels = fresh
            self.problem = None
            self._synced.set()
        elif isinstance(item, Changed):
            with self._lock:
                if item.deleted:
                    self._labels.pop(item.object.name, None)
                else:
                    self._labels[item.object.name] = _labels_of(item.object.raw)
        elif isinstance(item, WatchProblem):
            self.problem = item.message
            log.warning("cannot read namespaces: %s (retrying in %.0fs)", item.message, item.retry_in)

    def labels(self, name: str) -> Mapping[str, object] | None:
        with self._lock:
            return self._labels.get(name)

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def start(self) -> WatchedNamespaces:
        if self._watch is not None:
            self._watch.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._watch is not None:
            self._watch.stop(timeout)
            self._watch = None
