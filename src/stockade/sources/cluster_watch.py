"""Live clusters, continuously: list each resource, then watch it from the list's resourceVersion.

One :class:`Informer` per resource (per namespace with ``namespaces``), each on its own thread,
through the official client's ApiClient (kubeconfig, in-cluster, exec plugins, TLS):

- the list is paged and retried as :func:`stockade.sources.cluster.collect_cluster` does; its
  snapshot's resourceVersion is where the watch starts (``allowWatchBookmarks``, so a quiet
  resource still moves its resourceVersion forward);
- a watch that ends (the server's ``timeoutSeconds``) or drops mid-stream resumes from the last
  resourceVersion seen, after a backoff with jitter when it failed;
- a watch answered 410 Gone (as a status or an ``ERROR`` event: that version was compacted) is
  followed by a fresh list, delivered whole as :class:`Listed`, so the consumer can diff it against
  what it holds and see objects deleted while the watch was away;
- a forbidden (403) or failing resource is reported as :class:`WatchProblem` and retried later,
  never read as empty.

What comes out goes to one ``emit`` callable, in order per resource. Secrets, when watched at all,
are blanked on arrival (:mod:`stockade.sources.redaction`).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import urllib3

from stockade.errors import SourceError
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.cluster import (
    REQUEST_TIMEOUT,
    SERVICE_ACCOUNT_DIR,
    ApiError,
    RetryPolicy,
    ServedResource,
    _ConfigProblem,
    _connect,
    _CredentialProblem,
    _Deadline,
    _describe_failure,
    _discover,
    _list_all,
    _select,
    _Session,
    _short,
    _status_error,
    _unreachable,
)
from stockade.sources.limits import DEFAULT_LIMITS, ParseLimits
from stockade.sources.redaction import redact_secret
from stockade.sources.sharing import ValueSharer

# A watch asks the server to end it after a random 5–10 minutes (as client-go does), so that
# replicas do not all reconnect at once; a stream silent for longer than IDLE_TIMEOUT is dead.
WATCH_SECONDS = (300, 600)
IDLE_TIMEOUT = 120.0
FORBIDDEN_RETRY = 60.0  # seconds before a forbidden resource is tried again
LIST_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Listed:
    """A full list of one resource (the first, or after 410 Gone): every object it holds now."""

    resource: ServedResource
    namespace: str | None
    resources: tuple[Resource, ...]
    resource_version: str
    relist: bool  # False for the first list
    received: float  # time.monotonic() when it arrived


@dataclass(frozen=True, slots=True)
class Changed:
    """One watch event: an object added, modified or (``deleted``) removed."""

    resource: ServedResource
    object: Resource
    deleted: bool
    resource_version: str
    received: float


@dataclass(frozen=True, slots=True)
class WatchProblem:
    """A resource could not be listed or watched (``status`` 403: forbidden); retried after ``retry_in``."""

    resource: ServedResource
    namespace: str | None
    message: str
    status: int
    retry_in: float


WatchItem = Listed | Changed | WatchProblem
Emit = Callable[[WatchItem], None]


@dataclass(frozen=True, slots=True)
class WatchTiming:
    """How patient the informers are (tests shorten these)."""

    watch_seconds: tuple[int, int] = WATCH_SECONDS
    idle_timeout: float = IDLE_TIMEOUT
    forbidden_retry: float = FORBIDDEN_RETRY
    list_timeout: float = LIST_TIMEOUT
    request_timeout: float = REQUEST_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class _Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


class Informer:
    """Lists then watches one resource (in one namespace, when given), forever, until stopped."""

    def __init__(
        self,
        api: Any,
        resource: ServedResource,
        emit: Emit,
        origin: Origin,
        *,
        namespace: str | None = None,
        timing: WatchTiming | None = None,
        page_size: int = 500,
        limits: ParseLimits = DEFAULT_LIMITS,
        sharer: ValueSharer | None = None,
    ) -> None:
        self.api = api
        self.sharer = sharer
        self.resource = resource
        self.namespace = namespace
        self.emit = emit
        self.origin = origin
        self.timing = timing or WatchTiming()
        self.page_size = page_size
        self.limits = limits
        self.resource_version = ""
        self.lists = 0  # how many lists were made (1 + relists)
        self.resumes = 0  # watches started again from a known resourceVersion
        self._stop = threading.Event()
        self._stream: Any = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def display(self) -> str:
        return self.resource.display + (f" in namespace {self.namespace}" if self.namespace else "")

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"stockade-watch-{self.resource.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):  # already closed: nothing to end
                stream.shutdown()  # unblocks the reading thread at once

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        failures = 0
        need_list = True
        while not self._stop.is_set():
            try:
                if need_list:
                    self._list()
                    need_list = False
                elif self.lists:
                    self.resumes += 1
                self._watch()
                failures = 0  # the server ended the watch on time: resume at once
            except _Gone:
                need_list = True
                failures = 0
            except ApiError as error:
                if self._stop.is_set():
                    return
                if error.status in (401, 403, 404):
                    wait = self.timing.forbidden_retry
                    need_list = True  # permissions or the resource changed: start from a fresh list
                else:
                    wait = self.timing.retry.backoff(failures)
                    failures += 1
                self.emit(WatchProblem(self.resource, self.namespace, self._describe(error), error.status, wait))
                self._stop.wait(wait)

    def _describe(self, error: ApiError) -> str:
        if error.status == 403:
            return _describe_failure(self.resource, error, self.namespace).replace(
                "(missing RBAC: list on", "(missing RBAC: list and watch on"
            )
        return _describe_failure(self.resource, error, self.namespace).replace("cannot list", "cannot watch", 1)

    def _list(self) -> None:
        session = _Session(
            self.api, self.timing.retry, self.timing.request_timeout, _Deadline(self.timing.list_timeout), self.limits
        )
        listed = _list_all(session, self.resource, self.page_size, self.namespace)
        if listed.error is not None:
            raise listed.error
        objects = tuple(r for r in (self._resource(item) for item in listed.items) if r is not None)
        self.resource_version = listed.resource_version
        self.emit(
            Listed(self.resource, self.namespace, objects, listed.resource_version, self.lists > 0, time.monotonic())
        )
        self.lists += 1

    def _resource(self, item: dict[str, Any]) -> Resource | None:
        item.setdefault("apiVersion", self.resource.api_version)
        item.setdefault("kind", self.resource.kind)
        if self.resource.group == "" and self.resource.kind == "Secret":
            redact_secret(item)
        if self.sharer is not None:
            self.sharer.share(item)
        made = resource_from_raw(item, self.origin)
        return made if isinstance(made, Resource) else None

    def _watch(self) -> None:
        low, high = self.timing.watch_seconds
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", self.resource_version),
            ("timeoutSeconds", str(random.randint(low, high))),  # noqa: S311 - spreading reconnects
        ]
        path = self.resource.list_path_in(self.namespace)
        method, url, headers, body, post = self.api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        idle = self.timing.idle_timeout
        try:
            response = self.api.call_api(method, url, headers, body, post, _request_timeout=(idle, idle))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ApiError(0, f"connection failed: {_short(exc)}") from None
        raw = response.response
        with self._lock:
            self._stream = raw
        try:
            if self._stop.is_set():
                return
            status = int(response.status)
            if status == 410:
                raise _Gone
            if not 200 <= status < 300:
                raise _status_error(status, raw.read(), 1)
            for line in self._lines(raw):
                self._event(line)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if self._stop.is_set():
                return
            raise ApiError(0, f"the watch stream broke: {_short(exc)}") from None
        finally:
            with self._lock:
                self._stream = None
            raw.close()

    def _lines(self, raw: Any) -> Iterator[bytes]:
        pending = b""
        while not self._stop.is_set():
            chunk = raw.read1(256 * 1024)
            if not chunk:
                if pending.strip():
                    raise ApiError(0, "the watch stream ended in the middle of an event")
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line
            if len(pending) > self.limits.max_file_bytes:
                raise ApiError(0, f"a watch event of {self.display} is over the size limit", cause="limit")

    def _event(self, line: bytes) -> None:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ApiError(0, f"the watch of {self.display} sent invalid JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            raise ApiError(0, f"the watch of {self.display} sent an event without an object")
        kind, obj = event.get("type"), event["object"]
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        version = str(meta.get("resourceVersion") or "")
        if kind == "BOOKMARK":
            self.resource_version = version or self.resource_version
            return
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise _Gone
            raise ApiError(int(code) if isinstance(code, int) else 0, str(obj.get("message") or "watch error"))
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            raise ApiError(0, f"the watch of {self.display} sent an event of unknown type {kind!r}")
        made = self._resource(obj)
        if made is not None:
            self.emit(Changed(self.resource, made, kind == "DELETED", version, time.monotonic()))
        self.resource_version = version or self.resource_version


@dataclass(slots=True)
class ClusterWatch:
    """The informers of one cluster and the connection they share (see :func:`open_watch`)."""

    api: Any
    context: str
    informers: list[Informer]
    unmatched: list[str]  # selected kinds the cluster does not serve
    discovery_problems: list[str]

    def start(self) -> None:
        for informer in self.informers:
            informer.start()

    def stop(self, timeout: float = 5.0) -> None:
        for informer in self.informers:
            informer.stop()
        deadline = time.monotonic() + timeout
        for informer in self.informers:
            informer.join(max(0.0, deadline - time.monotonic()))
        self.api.close()


def open_watch(
    emit: Emit,
    *,
    kinds: Sequence[str],
    context: str | None = None,
    kubeconfig: str | None = None,
    namespaces: Iterable[str] | None = None,
    timing: WatchTiming | None = None,
    credentials_dir: str | None = None,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> ClusterWatch:
    """Connect, discover, and make one informer per served resource of ``kinds`` (kubectl-style
    names); start them with :meth:`ClusterWatch.start`. ``namespaces``: namespaced kinds are watched
    in those namespaces only and cluster-scoped kinds are not watched. Raises SourceError when the
    cluster cannot be reached or its configuration is wrong."""
    timing = timing or WatchTiming()
    try:
        connection = _connect(context, kubeconfig, 4, service_account_dir, credentials_dir)
    except (_ConfigProblem, _CredentialProblem) as exc:
        raise SourceError(str(exc)) from None
    session = _Session(connection.api, timing.retry, timing.request_timeout, _Deadline(timing.list_timeout), limits)
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="stockade-discover") as pool:
            served, failed = _discover(session, pool, lambda _group: True)
    except ApiError as exc:
        connection.api.close()
        raise SourceError(_unreachable(exc)) from None
    chosen, unmatched = _select(served, list(kinds), include_noisy=True)
    chosen = [r for r in chosen if "watch" in r.verbs]
    origin = Origin(file=f"cluster:{connection.context}")
    scope = sorted({n.strip() for n in namespaces if n.strip()}) if namespaces is not None else None
    sharer = ValueSharer()  # one for every informer: a Deployment and its Pods share their template
    informers = [
        Informer(connection.api, r, emit, origin, namespace=ns, timing=timing, limits=limits, sharer=sharer)
        for r in chosen
        for ns in ([None] if scope is None else (scope if r.namespaced else []))
    ]
    problems = [f"cannot discover API group {group}: {error.message}" for group, error in failed]
    return ClusterWatch(connection.api, connection.context, informers, unmatched, problems)
