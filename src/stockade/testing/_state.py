"""Shared state of one fake API server: faults to inject, forbidden resources, the request log."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from stockade.testing._store import Store

Drop = Literal["before", "mid"]


class Fault:
    """A fault injected into the first ``times`` requests whose path matches ``path``.

    ``path`` is a shell-style pattern on the URL path (``/api/v1/*``); ``query`` a text the raw
    query string must contain (``continue=``, ``watch=``). Effects, applied in this order:
    ``compact`` forgets the watch history and every continue token; ``delay`` sleeps; ``drop``
    closes the connection before answering or halfway through the body; ``status`` answers
    with that code (and ``Retry-After`` when given: seconds, or any text such as an HTTP-date)
    instead of the real response; ``drip`` sends the answer one byte every ``drip`` seconds;
    ``stuck_continue`` answers a list with its first page and the same continue token every time.
    """

    def __init__(
        self,
        path: str = "*",
        *,
        query: str = "",
        times: int = 1,
        status: int | None = None,
        retry_after: int | str | None = None,
        delay: float = 0.0,
        drop: Drop | None = None,
        compact: bool = False,
        drip: float = 0.0,
        stuck_continue: bool = False,
    ) -> None:
        if drop not in (None, "before", "mid"):
            raise ValueError("drop must be 'before' or 'mid'")
        self.path = path
        self.query = query
        self.times = times
        self.status = status
        self.retry_after = retry_after
        self.delay = delay
        self.drop: Drop | None = drop
        self.compact = compact
        self.drip = drip
        self.stuck_continue = stuck_continue
        self._lock = threading.Lock()
        self._hits = 0

    @property
    def hits(self) -> int:
        """Requests this fault has been applied to so far."""
        with self._lock:
            return self._hits

    def take(self, path: str, query: str) -> bool:
        """Count one request against the fault; True when the fault applies to it."""
        if not fnmatch.fnmatchcase(path, self.path) or self.query not in query:
            return False
        with self._lock:
            if self._hits >= self.times:
                return False
            self._hits += 1
            return True

    def __repr__(self) -> str:
        return f"Fault(path={self.path!r}, query={self.query!r}, times={self.times}, hits={self.hits})"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the server answered (``status`` 0 when the connection was dropped)."""

    method: str
    path: str
    query: str
    status: int


def parse_resource_names(entries: Iterable[str]) -> set[tuple[str, str]]:
    """``secrets`` / ``deployments.apps`` → {(plural, group)}."""
    parsed: set[tuple[str, str]] = set()
    for entry in entries:
        plural, _, group = entry.partition(".")
        parsed.add((plural, group))
    return parsed


@dataclass
class ServerState:
    store: Store
    user: str
    token: str | None
    server_version: str
    bookmark_interval: float
    watch_timeout: float
    forbidden: set[tuple[str, str]] = field(default_factory=set)
    read_only: set[tuple[str, str]] = field(default_factory=set)  # may read, may not write
    # When set, the user holds Roles in these namespaces only: cluster-wide lists and cluster-scoped
    # kinds are forbidden, except getting those Namespace objects themselves.
    confined: frozenset[str] | None = None
    faults: list[Fault] = field(default_factory=list)
    # (arrival number, record): a request is logged when it ends but ordered by when it arrived.
    records: list[tuple[int, RequestRecord]] = field(default_factory=list)
    arrivals: int = 0
    errors: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def active_faults(self, path: str, query: str) -> list[Fault]:
        with self.lock:
            faults = list(self.faults)
        return [f for f in faults if f.take(path, query)]

    def enter(self) -> int:
        with self.lock:
            self.arrivals += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.arrivals

    def leave(self, arrival: int, record: RequestRecord) -> None:
        with self.lock:
            self.in_flight -= 1
            self.records.append((arrival, record))

    def log(self) -> list[RequestRecord]:
        with self.lock:
            return [record for _, record in sorted(self.records, key=lambda entry: entry[0])]
