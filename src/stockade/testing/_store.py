"""The fake API server's object store: resourceVersions, watch history, paged-list snapshots.

Every change bumps one global resourceVersion (as etcd's revision does) and is kept in a bounded
history that watches replay from. Paged lists read from a snapshot taken by their first page, so
objects changed between pages neither vanish nor repeat; compaction drops the history and the
snapshots, which is what makes old watch resourceVersions and old continue tokens answer 410 Gone.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from stockade.testing._catalog import Catalog, build_catalog, split_api_version

Obj = dict[str, Any]
Selector = Callable[[Mapping[str, Any]], bool]

_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_MAX_SNAPSHOTS = 64
CREATION_TIMESTAMP = "2024-01-01T00:00:00Z"


class Gone(Exception):
    """A resourceVersion or continue token older than what the store still holds."""


class Conflict(ValueError):
    """Creating an object that exists, or changing one that does not."""


class Stale(ValueError):
    """A write whose resourceVersion precondition no longer holds (HTTP 409 Conflict)."""


class Missing(ValueError):
    """A write to an object that does not exist (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    group: str
    kind: str
    namespace: str
    obj: Obj


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Obj]
    resource_version: int
    token: str | None
    remaining: int


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


class Store:
    """Thread-safe; every public method takes the one lock."""

    def __init__(self, history: int) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._rv = 0
        self._history: list[Event] = []
        self._history_limit = max(1, history)
        self._floor = 0
        self._snapshots: OrderedDict[int, tuple[int, list[Obj]]] = OrderedDict()
        self._next_snapshot = 1
        self._kinds: dict[tuple[str, str], bool] = {}
        self._catalog: Catalog | None = None
        self.closed = False

    # -- reading ---------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        with self._cond:
            return self._rv

    @property
    def floor(self) -> int:
        with self._cond:
            return self._floor

    def catalog(self) -> Catalog:
        with self._cond:
            if self._catalog is None:
                crds = list(self._objects.get(_CRD, {}).values())
                kinds = [(av, kind, namespaced) for (av, kind), namespaced in self._kinds.items()]
                self._catalog = build_catalog(crds, kinds)
            return self._catalog

    def get(self, group: str, kind: str, namespace: str, name: str) -> Obj | None:
        with self._cond:
            return self._objects.get((group, kind), {}).get((namespace, name))

    def find(self, api_version: str, kind: str, name: str, namespace: str | None) -> Obj | None:
        """A copy of one object, ``namespace`` defaulted the way it was when stored."""
        with self._cond:
            group, _ = split_api_version(api_version)
            found = self.get(group, kind, self._namespace_for(group, kind, namespace), name)
            return copy.deepcopy(found) if found is not None else None

    def all_objects(self) -> list[Obj]:
        with self._cond:
            return [copy.deepcopy(o) for bucket in self._objects.values() for o in bucket.values()]

    def list_page(
        self,
        group: str,
        kind: str,
        namespace: str | None,
        selector: Selector,
        limit: int,
        token: str | None,
    ) -> Page:
        """One page of a list; ``limit`` 0 means everything. Raises Gone for an expired token."""
        with self._cond:
            if token is not None:
                snapshot_id, rv, offset = _decode_token(token)
                snapshot = self._snapshots.get(snapshot_id)
                if snapshot is None or rv < self._floor or snapshot[0] != rv:
                    raise Gone("continue token expired")
                items = snapshot[1]
            else:
                rv, offset = self._rv, 0
                bucket = self._objects.get((group, kind), {})
                items = [
                    bucket[key]
                    for key in sorted(bucket)
                    if (namespace is None or key[0] == namespace) and selector(bucket[key])
                ]
                snapshot_id = 0
            end = offset + limit if limit > 0 else len(items)
            if end >= len(items):
                return Page(items[offset:], rv, None, 0)
            if token is None:
                snapshot_id = self._next_snapshot
                self._next_snapshot += 1
                self._snapshots[snapshot_id] = (rv, items)
                while len(self._snapshots) > _MAX_SNAPSHOTS:
                    self._snapshots.popitem(last=False)
            return Page(items[offset:end], rv, _encode_token(snapshot_id, rv, end), len(items) - end)

    def start_watch(
        self, group: str, kind: str, namespace: str | None, since: int | None, selector: Selector
    ) -> tuple[list[Event], int]:
        """Events to send first and the cursor to follow from.

        ``since`` None means "current state": one synthetic ADDED per matching object.
        """
        with self._cond:
            if since is None:
                bucket = self._objects.get((group, kind), {})
                events = [
                    Event(int(_meta(o)["resourceVersion"]), "ADDED", group, kind, key[0], o)
                    for key, o in sorted(bucket.items())
                    if (namespace is None or key[0] == namespace) and selector(o)
                ]
                return events, self._rv
            return self.events_after(since, group, kind, namespace, selector)

    def events_after(
        self, since: int, group: str, kind: str, namespace: str | None, selector: Selector
    ) -> tuple[list[Event], int]:
        """Matching events newer than ``since``, and the resourceVersion they bring a watcher to."""
        with self._cond:
            if since < self._floor:
                raise Gone(f"too old resource version: {since} ({self._floor + 1})")
            start = bisect.bisect_right(self._history, since, key=lambda e: e.rv)
            events = [
                e
                for e in self._history[start:]
                if e.group == group
                and e.kind == kind
                and (namespace is None or e.namespace == namespace)
                and selector(e.obj)
            ]
            return events, max(since, self._rv)

    def wait(self, after: int, timeout: float) -> None:
        """Block until the store moves past ``after``, it closes, or ``timeout`` passes."""
        with self._cond:
            if self._rv <= after and not self.closed:
                self._cond.wait(timeout)

    # -- writing ---------------------------------------------------------------------------
    def load(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Initial objects: stored without watch history (as if compacted since)."""
        with self._cond:
            for obj in objects:
                self._put(obj, "load")
            self.compact()

    def put(self, obj: Mapping[str, Any], mode: str) -> Obj:
        """Store ``obj`` (mode create, update or apply) and return a copy as stored."""
        with self._cond:
            return copy.deepcopy(self._put(obj, mode))

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None) -> Obj:
        with self._cond:
            group, _ = split_api_version(api_version)
            bucket = self._objects.get((group, kind), {})
            key = (self._namespace_for(group, kind, namespace), name)
            if key not in bucket:
                raise Conflict(f"{kind} {name!r} not found")
            gone = copy.deepcopy(bucket.pop(key))
            self._rv += 1
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record("DELETED", group, kind, key[0], gone)
            if (group, kind) == _CRD:
                self._catalog = None
            return copy.deepcopy(gone)

    def write(self, group: str, kind: str, namespace: str, name: str, change: Callable[[Obj], Obj]) -> tuple[Obj, Obj]:
        """Replace one object with ``change(copy of it)``, atomically; a ``metadata.resourceVersion``
        in the result must still be the stored one (optimistic concurrency). Returns (old, new)."""
        with self._cond:
            current = self._objects.get((group, kind), {}).get((namespace, name))
            if current is None:
                raise Missing(name)
            changed = change(copy.deepcopy(current))
            _check_version(changed, current)
            return copy.deepcopy(current), copy.deepcopy(self._put(changed, "update"))

    def remove(self, group: str, kind: str, namespace: str, name: str, expected: str | None) -> Obj:
        """Delete one object, when ``expected`` (a resourceVersion) is None or still current."""
        with self._cond:
            current = self._objects.get((group, kind), {}).get((namespace, name))
            if current is None:
                raise Missing(name)
            if expected is not None and expected != current["metadata"].get("resourceVersion"):
                raise Stale(name)
            api_version = current.get("apiVersion") or (f"{group}/v1" if group else "v1")
            return self.delete(str(api_version), kind, name, namespace or None)

    def compact(self) -> None:
        """Forget all history: older watch resourceVersions and all continue tokens now get 410."""
        with self._cond:
            self._history.clear()
            self._snapshots.clear()
            self._floor = self._rv

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    # -- internals -------------------------------------------------------------------------
    def _namespace_for(self, group: str, kind: str, namespace: str | None) -> str:
        resource = self.catalog().by_kind(group, kind)
        namespaced = resource.namespaced if resource is not None else bool(namespace)
        return (namespace or "default") if namespaced else ""

    def _put(self, raw: Mapping[str, Any], mode: str) -> Obj:
        obj = copy.deepcopy(dict(raw))
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        meta = obj.get("metadata")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(meta, dict):
            raise ValueError("an object needs apiVersion, kind and metadata")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{kind} without metadata.name")
        group, _ = split_api_version(api_version)
        if (api_version, kind) not in self._kinds:
            # A new kind (or a new version of one) changes what discovery serves.
            self._kinds[(api_version, kind)] = bool(meta.get("namespace"))
            self._catalog = None
        namespace = self._namespace_for(group, kind, meta.get("namespace"))
        if namespace:
            meta["namespace"] = namespace
        bucket = self._objects.setdefault((group, kind), {})
        key = (namespace, name)
        exists = key in bucket
        if mode == "create" and exists:
            raise Conflict(f"{kind} {name!r} already exists")
        if mode == "update" and not exists:
            raise Conflict(f"{kind} {name!r} not found")
        if exists:
            old_meta = bucket[key]["metadata"]
            meta.setdefault("uid", old_meta.get("uid"))
            meta.setdefault("creationTimestamp", old_meta.get("creationTimestamp"))
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", CREATION_TIMESTAMP)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        bucket[key] = obj
        if (group, kind) == _CRD:
            self._catalog = None
        if mode != "load":
            self._record("MODIFIED" if exists else "ADDED", group, kind, namespace, obj)
        return obj

    def _record(self, kind_of_event: str, group: str, kind: str, namespace: str, obj: Obj) -> None:
        self._history.append(Event(self._rv, kind_of_event, group, kind, namespace, obj))
        if len(self._history) >= 2 * self._history_limit:
            dropped = len(self._history) - self._history_limit
            self._floor = self._history[dropped - 1].rv
            del self._history[:dropped]
        self._cond.notify_all()


def _check_version(changed: Obj, current: Obj) -> None:
    meta = changed.get("metadata")
    asked = meta.get("resourceVersion") if isinstance(meta, dict) else None
    if asked not in (None, "") and asked != current["metadata"].get("resourceVersion"):
        raise Stale(str(current["metadata"].get("name")))


def _encode_token(snapshot_id: int, rv: int, offset: int) -> str:
    payload = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{snapshot_id}/{offset}"})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, int, int]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        snapshot_id, offset = str(payload["start"]).split("/")
        return int(snapshot_id), int(payload["rv"]), int(offset)
    except (binascii.Error, orjson.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
        raise Gone("continue token is not valid") from exc
