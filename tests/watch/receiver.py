"""A webhook receiver for the tests: a real ``http.server`` on 127.0.0.1 in a thread.

It records every POST (path, headers, JSON body) and can be told to answer the next N requests
with a status (and a Retry-After), to be slow, or to be down (its port closed).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Plan:
    failures: list[tuple[int, str | None]] = field(default_factory=list)  # (status, Retry-After) to answer next
    delay: float = 0.0


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts: list[float] = []  # monotonic time of every request, answered or not
        self._plan = _Plan()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self.up()

    # -- control ---------------------------------------------------------------------------
    def fail(self, times: int, status: int = 500, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and a Retry-After header)."""
        with self._lock:
            self._plan.failures += [(status, retry_after)] * times

    def slow(self, seconds: float) -> None:
        with self._lock:
            self._plan.delay = seconds

    def down(self) -> None:
        """Close the port (connections are refused) until :meth:`up`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._port

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    def close(self) -> None:
        self.down()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # -- waiting ---------------------------------------------------------------------------
    def wait_for(self, condition: Callable[[Receiver], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: condition not met in {timeout}s ({len(self.received)} received)")
                self._changed.wait(left)

    def events(self) -> list[dict[str, Any]]:
        """Every event of every raw-JSON POST received, in order."""
        return [event for request in self.received for event in request.json["events"]]

    # -- serving ---------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        with self._changed:
            self.attempts.append(time.monotonic())
            failure = self._plan.failures.pop(0) if self._plan.failures else None
            delay = self._plan.delay
            self._changed.notify_all()
        if delay:
            time.sleep(delay)  # the slowness under test, not a wait for something
        if failure is not None:
            status, retry_after = failure
            handler.send_response(status)
            if retry_after is not None:
                handler.send_header("Retry-After", retry_after)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        with self._changed:  # recorded before the answer, so a sender that saw 200 finds it here
            self.received.append(Received(handler.path, dict(handler.headers.items()), body, time.monotonic()))
            self._changed.notify_all()
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")
