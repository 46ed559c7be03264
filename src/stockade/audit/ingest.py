"""The audit webhook backend: the API server POSTs EventLists, detections come out as JSON lines.

kube-apiserver's ``--audit-webhook-config-file`` names this endpoint; in its default ``batch``
mode it buffers events and sends EventLists from a background worker, retrying with backoff when
a request fails. So the receiving side must answer fast and never make the API server wait: a
request is parsed, its events queued (bounded), and answered 200 at once; a separate thread runs
the detections. When the queue cannot take a whole EventList the answer is 429 with Retry-After,
and the API server sends it again later: nothing is lost, memory stays bounded. Requests must
carry the bearer token the server was started with (``--token-file``), checked in constant time.
"""

from __future__ import annotations

import hmac
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stockade.audit.detections import Detection, Detector

MAX_BODY = 32 * 1024 * 1024  # the API server's default batch is 400 events; this is far above


@dataclass(slots=True)
class IngestStats:
    received: int = 0  # events accepted
    refused: int = 0  # events answered 429 (the API server sends them again)
    judged: int = 0
    detections: int = 0
    bad_requests: int = 0


class Ingest:
    """The queue between the HTTP handler and the detection thread."""

    def __init__(self, detector: Detector, emit: Callable[[Detection], None], capacity: int = 100_000) -> None:
        self.detector = detector
        self.emit = emit
        self.queue: queue.Queue[Mapping[str, Any] | None] = queue.Queue(maxsize=capacity)
        self.capacity = capacity
        self.stats = IngestStats()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="stockade-audit-detect", daemon=True)
        self._thread.start()

    def offer(self, events: Sequence[Mapping[str, Any]]) -> bool:
        """Queue every event of one EventList, or none (False: no room for all of them)."""
        with self._lock:
            if self.capacity - self.queue.qsize() < len(events):
                self.stats.refused += len(events)
                return False
            for event in events:
                self.queue.put_nowait(event)
            self.stats.received += len(events)
        return True

    def _run(self) -> None:
        while True:
            event = self.queue.get()
            try:
                if event is None:
                    return
                for detection in self.detector.check(event):
                    self.stats.detections += 1
                    self.emit(detection)
                self.stats.judged += 1
            finally:
                self.queue.task_done()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued event is judged (at shutdown), then stop the thread."""
        self.queue.put(None, timeout=timeout)
        self._thread.join(timeout)


def create_app(ingest: Ingest, token: str | None) -> Starlette:
    expected = f"Bearer {token}".encode() if token else None

    async def receive(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse({"error": "unauthorized"}, status_code=401)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            ingest.stats.bad_requests += 1
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                ingest.stats.bad_requests += 1
                return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            ingest.stats.bad_requests += 1
            return JSONResponse({"error": "not JSON"}, status_code=400)
        items = document.get("items") if isinstance(document, dict) and document.get("kind") == "EventList" else None
        if not isinstance(items, list):
            ingest.stats.bad_requests += 1
            return JSONResponse({"error": "expected an audit.k8s.io EventList"}, status_code=400)
        events = [item for item in items if isinstance(item, dict)]
        if not ingest.offer(events):
            return JSONResponse({"error": "busy"}, status_code=429, headers={"Retry-After": "1"})
        return Response(status_code=200)

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"received": ingest.stats.received, "judged": ingest.stats.judged, "queued": ingest.queue.qsize()}
        )

    return Starlette(routes=[Route("/healthz", health), Route("/{path:path}", receive, methods=["POST"])])
