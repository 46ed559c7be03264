"""``/metrics``, ``/healthz`` and ``/readyz`` of ``stockade watch``: a small Starlette app served by
uvicorn in a daemon thread.

- ``GET /metrics``: the Prometheus text format of :class:`~stockade.watch.metrics.WatchMetrics`.
- ``GET /healthz`` (liveness): 200 while the watch loop's heartbeat is fresh; 503 otherwise, so
  the kubelet restarts a stuck process.
- ``GET /readyz`` (readiness): 200 once the initial sync is done and the store is reachable. With
  leader election on, a standby replica (not the leader) that is alive is always ready: it does not
  write, so the store does not concern it, and a never-ready standby would stall every rolling
  update and count against the PodDisruptionBudget. 503 otherwise, with the reasons.
- Any other path: 404; any other method: 405. Health bodies are short JSON.

It binds to 127.0.0.1 unless told otherwise (in a pod the manifests pass ``0.0.0.0:9090`` so the
kubelet and Prometheus can reach it). No access log is written: it would only repeat probe and
scrape requests, and request lines can carry query strings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stockade._serving import ServingThread, listening_socket
from stockade.watch.metrics import WatchMetrics

DEFAULT_HEARTBEAT_LIMIT = 30.0
# The text format every Prometheus reads (2.x and 3.x); the metric names are all plain ASCII.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LoopStatus(Protocol):
    """What :func:`health_of` reads of the watcher's ``WatchStatus``."""

    @property
    def heartbeat(self) -> float: ...  # time.monotonic() of the loop's last turn
    @property
    def synced(self) -> bool: ...
    @property
    def store_ok(self) -> bool: ...
    @property
    def problems(self) -> Mapping[Any, str]: ...  # feed -> why it cannot be read


class Election(Protocol):
    @property
    def is_leader(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class HealthState:
    """What the health endpoints judge, read fresh for each request.

    ``heartbeat_age``: seconds since the watch loop last turned; ``heartbeat_limit``: the age past
    which it counts as stuck. ``synced``: every informer listed once (or said why it cannot);
    ``store_ok``: the last write (or the store's opening) succeeded. ``leader_election``: on for
    this replica; ``leader``: this replica holds the lease. ``notes``: shown in the bodies without
    changing a verdict (e.g. kinds that may not be read: a restart would not cure them).
    """

    heartbeat_age: float
    synced: bool
    store_ok: bool
    heartbeat_limit: float = DEFAULT_HEARTBEAT_LIMIT
    leader_election: bool = False
    leader: bool = False
    notes: tuple[str, ...] = field(default=())

    def liveness_problems(self) -> list[str]:
        if self.heartbeat_age > self.heartbeat_limit:
            return [f"the watch loop has not turned for {self.heartbeat_age:.0f}s (limit {self.heartbeat_limit:.0f}s)"]
        return []

    def readiness_problems(self) -> list[str]:
        problems = self.liveness_problems()
        if self.leader_election and not self.leader:
            return problems  # a healthy standby is ready (see the module docstring)
        if not self.synced:
            problems.append("the initial list of the cluster is not done")
        if not self.store_ok:
            problems.append("the history store is unreachable")
        return problems

    @property
    def role(self) -> str:
        if not self.leader_election:
            return "single"
        return "leader" if self.leader else "standby"


def health_of(
    status: LoopStatus,
    leader: Election | None = None,
    *,
    heartbeat_limit: float = DEFAULT_HEARTBEAT_LIMIT,
    now: Callable[[], float] = time.monotonic,
) -> HealthState:
    """The :class:`HealthState` of a watcher's status (``leader``: its election, None when off)."""
    return HealthState(
        heartbeat_age=max(0.0, now() - status.heartbeat),
        synced=status.synced,
        store_ok=status.store_ok,
        heartbeat_limit=heartbeat_limit,
        leader_election=leader is not None,
        leader=leader is not None and leader.is_leader,
        notes=tuple(sorted(set(status.problems.values()))),
    )


def build_app(metrics: WatchMetrics, health: Callable[[], HealthState]) -> Starlette:
    async def serve_metrics(request: Request) -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        state = health()
        problems = state.liveness_problems()
        return _verdict(problems, state)

    async def readyz(request: Request) -> Response:
        state = health()
        problems = state.readiness_problems()
        return _verdict(problems, state)

    return Starlette(
        routes=[
            Route("/metrics", serve_metrics, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )


def _verdict(problems: list[str], state: HealthState) -> Response:
    body = {"ok": not problems, "role": state.role, "problems": problems, "notes": list(state.notes)}
    return JSONResponse(body, status_code=503 if problems else 200)


class HealthServer:
    """Serves :func:`build_app` on ``host:port`` (``port=0``: any free port; see :attr:`url`)."""

    def __init__(
        self,
        metrics: WatchMetrics,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        health: Callable[[], HealthState],
    ) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self._app = build_app(metrics, health)
        self._serving: ServingThread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> HealthServer:
        """Bind (errors such as a port in use are raised here) and serve in a daemon thread."""
        if self._serving is not None:
            return self
        sock = listening_socket(self.host, self.port, 128)
        self.bound: tuple[str, int] = sock.getsockname()[:2]
        self.port = int(self.bound[1])
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the process's logging as it is
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        serving = ServingThread(uvicorn.Server(config), sock, "stockade-health")
        serving.start(timeout, f"the health server on {self.url}")
        self._serving = serving
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._serving is not None:
            self._serving.stop(timeout)
            self._serving = None

    def __enter__(self) -> HealthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
