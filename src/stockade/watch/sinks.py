"""Where transitions go besides the store: a JSON-lines stream and a webhook (Slack or raw JSON).

A sink is told each batch of :class:`~stockade.watch.events.TransitionEvent` the watcher wrote,
from the watcher's loop thread; ``send`` must never block it for long. Every event a sink could
not deliver is counted in its :class:`SinkStats` (``failed``: given up on; ``dropped``: never
tried, because a queue was full or the sink was closing) and told to its :class:`SinkObserver`
(the metrics), never lost silently.

The webhook URL often carries a token in its path or query (Slack's do), so only its scheme and
host are ever logged; events carry no Secret values (see :mod:`.events`), so neither do payloads.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import io
import logging
import os
import queue
import random
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal, Protocol
from urllib.parse import urlsplit

import orjson

from stockade import __version__
from stockade.outputs import STDOUT, open_append
from stockade.watch.events import TransitionEvent

log = logging.getLogger("stockade.watch.sinks")

WebhookFormat = Literal["slack", "json"]

# Slack caps a message at 50 blocks and a section's text at 3,000 characters; one section per
# transition and a header and a footer stay far below both.
SLACK_LINES = 20
SLACK_LINE_CHARS = 500
SLACK_TEXT_CHARS = 3_000
MAX_RETRY_AFTER = 300.0  # a Retry-After beyond this is capped: a typo must not silence alerts for days
_RESPONSE_READ_LIMIT = 64 * 1024


class AlertEvent(Protocol):
    """What a sink sends: a finding's transition (`TransitionEvent`) or a node file's change
    (`stockade.node.watch.FileEvent`)."""

    def to_json(self) -> dict[str, Any]: ...

    @property
    def alert_source(self) -> str: ...  # the cluster or the node

    @property
    def alert_kind(self) -> str: ...  # new, fixed… or created, modified…

    @property
    def alert_noun(self) -> str: ...  # "finding change", "file change"

    def alert_line(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SinkStats:
    """Events a sink delivered (``sent``), gave up on (``failed``) and never tried (``dropped``)."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0


class SinkObserver(Protocol):
    """What a sink tells the metrics (see :class:`stockade.watch.metrics.WatchMetrics`)."""

    def sink_dropped(self, sink: str, count: int) -> None: ...
    def sink_failed(self, sink: str, count: int) -> None: ...


class Sink(Protocol):
    name: str

    @property
    def stats(self) -> SinkStats: ...
    def send(self, events: Sequence[TransitionEvent]) -> None: ...
    def close(self, timeout: float) -> None: ...


class _Counts:
    """Thread-safe counters behind :class:`SinkStats`, forwarded to the observer."""

    def __init__(self, name: str, observer: SinkObserver | None) -> None:
        self._name = name
        self._observer = observer
        self._lock = threading.Lock()
        self._sent = self._failed = self._dropped = 0

    def snapshot(self) -> SinkStats:
        with self._lock:
            return SinkStats(self._sent, self._failed, self._dropped)

    def sent(self, count: int) -> None:
        with self._lock:
            self._sent += count

    def failed(self, count: int) -> None:
        with self._lock:
            self._failed += count
        if self._observer is not None and count:
            self._observer.sink_failed(self._name, count)

    def dropped(self, count: int) -> None:
        with self._lock:
            self._dropped += count
        if self._observer is not None and count:
            self._observer.sink_dropped(self._name, count)


# -- JSON lines --------------------------------------------------------------------------------


class JsonLinesSink:
    """One ``stockade.event/v1`` JSON object per line, flushed after each batch.

    ``target``: an open stream (text or binary), ``-`` for standard output, or a path, opened for
    appending (created with mode 0600; a symbolic link is refused unless it leads to a stream such
    as ``/dev/stdout``, so a planted link cannot make the watcher append to another file).
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[bytes] | IO[str],
        *,
        name: str = "jsonl",
        observer: SinkObserver | None = None,
    ) -> None:
        self.name = name
        self._counts = _Counts(name, observer)
        self._lock = threading.Lock()
        self._owned: IO[bytes] | None = None
        self._failing = False
        if isinstance(target, str | os.PathLike):
            path = os.fspath(target)
            if path == STDOUT:
                self._stream: IO[bytes] | IO[str] = sys.stdout
            else:
                self._owned = open_append(path, what="events")
                self._stream = self._owned
        else:
            self._stream = target

    @property
    def stats(self) -> SinkStats:
        return self._counts.snapshot()

    def send(self, events: Sequence[AlertEvent]) -> None:
        if not events:
            return
        data = b"".join(orjson.dumps(event.to_json()) + b"\n" for event in events)
        with self._lock:
            try:
                if isinstance(self._stream, io.TextIOBase):
                    self._stream.write(data.decode())
                else:
                    self._stream.write(data)  # type: ignore[arg-type]
                self._stream.flush()
            except (OSError, ValueError) as error:  # ValueError: the stream was closed
                self._counts.failed(len(events))
                if not self._failing:
                    log.warning("%s: cannot write events (%s); counting them as failed", self.name, error)
                self._failing = True
                return
        if self._failing:
            log.warning("%s: writing events again", self.name)
            self._failing = False
        self._counts.sent(len(events))

    def close(self, timeout: float = 0.0) -> None:
        """Flush, and close the file if this sink opened it (``timeout``: writes never wait)."""
        with self._lock:
            if self._owned is not None:
                self._owned.close()
            else:
                with contextlib.suppress(OSError, ValueError):
                    self._stream.flush()


# -- webhook -----------------------------------------------------------------------------------


class WebhookSink:
    """POSTs transitions to a webhook from a background thread, through a bounded queue.

    ``format="slack"``: a Slack-compatible incoming-webhook message (``text`` and ``blocks``), one
    readable line per transition, at most :data:`SLACK_LINES` lines and "…and N more" per message;
    ``format="json"``: ``{"events": [stockade.event/v1 …]}``. Up to ``batch_size`` events go in one
    POST. Connection errors, 429 (its Retry-After obeyed) and 5xx are retried with exponential
    backoff and jitter, up to ``max_attempts`` tries; other 4xx are not retried. When the queue is
    full, new events are dropped and counted, and a warning says so once per overflow episode.

    ``url``: http or https only; https verifies certificates (against ``ca_bundle`` when given).
    Only ``scheme://host`` of it is ever logged. ``headers``: added to each request.
    """

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 10_000,
        timeout: float = 5.0,
        max_attempts: int = 6,
        headers: Mapping[str, str] | None = None,
        format: WebhookFormat = "slack",
        batch_size: int = 100,
        ca_bundle: str | os.PathLike[str] | None = None,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        name: str = "webhook",
        observer: SinkObserver | None = None,
    ) -> None:
        self.target = WebhookTarget.parse(url)
        if format not in ("slack", "json"):
            raise ValueError(f"unknown webhook format {format!r} (choose slack or json)")
        if queue_size < 1 or max_attempts < 1 or batch_size < 1 or timeout <= 0:
            raise ValueError("queue_size, max_attempts and batch_size must be at least 1, timeout above 0")
        self.name = name
        self.format: WebhookFormat = format
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.headers = _checked_headers(headers or {})
        self._context = _tls_context(ca_bundle) if self.target.scheme == "https" else None
        self._counts = _Counts(name, observer)
        # None in the queue wakes the thread for close() (when there is room for it).
        self._queue: queue.Queue[AlertEvent | None] = queue.Queue(maxsize=queue_size)
        self._closing = threading.Event()  # no more events accepted; drain what is queued
        self._abort = threading.Event()  # stop now: close() ran out of time
        self._overflow = 0  # events dropped in the current overflow episode (0: none)
        self._overflow_lock = threading.Lock()
        self._reported: str | None = None  # the last non-retried problem logged (until a success)
        self._thread = threading.Thread(target=self._run, name=f"stockade-{name}", daemon=True)
        self._thread.start()

    @property
    def stats(self) -> SinkStats:
        return self._counts.snapshot()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- the watcher's side (never blocks) -------------------------------------------------
    def send(self, events: Sequence[AlertEvent]) -> None:
        if not events:
            return
        if self._closing.is_set():
            self._counts.dropped(len(events))
            log.warning("%s %s: closing; %d events dropped", self.name, self.target, len(events))
            return
        dropped = 0
        for event in events:
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                dropped += 1
        with self._overflow_lock:
            if dropped:
                if not self._overflow:
                    log.warning("%s queue full: %d events dropped (%s)", self.name, dropped, self.target)
                self._overflow += dropped
            elif self._overflow:
                log.warning("%s queue has room again: %d events dropped in all", self.name, self._overflow)
                self._overflow = 0
        if dropped:
            self._counts.dropped(dropped)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, waiting at most ``timeout`` seconds; what is left then is
        counted as dropped (and a request in flight is abandoned to its own timeout)."""
        self._closing.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(max(0.0, timeout))
        if self._thread.is_alive():
            self._abort.set()
            left = self._drain_queue()
            if left:
                self._counts.dropped(left)
                log.warning("%s %s: %d events not delivered before close", self.name, self.target, left)

    def _drain_queue(self) -> int:
        count = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return count
            count += item is not None

    # -- the background thread -------------------------------------------------------------
    def _run(self) -> None:
        while not self._abort.is_set():
            batch = self._take()
            if batch:
                self._deliver(batch)
            if self._closing.is_set() and self._queue.empty():
                return

    def _take(self) -> list[AlertEvent]:
        batch: list[AlertEvent] = []
        try:
            item = self._queue.get(timeout=0.5)
            while item is not None:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                item = self._queue.get_nowait()
        except queue.Empty:
            pass
        return batch

    def _deliver(self, batch: list[AlertEvent]) -> None:
        body = orjson.dumps(self.payload(batch))
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            if self._abort.is_set():
                self._counts.dropped(len(batch))
                return
            outcome = self._post(body)
            if outcome.delivered:
                self._counts.sent(len(batch))
                if self._reported is not None:
                    log.warning("%s %s: delivering again", self.name, self.target)
                self._reported = None
                return
            last = outcome.problem
            if not outcome.retry:
                self._counts.failed(len(batch))
                if self._reported != outcome.problem:  # once per problem, not per batch
                    log.warning(
                        "%s %s: %s; %d events not delivered (not retried)",
                        self.name,
                        self.target,
                        outcome.problem,
                        len(batch),
                    )
                self._reported = outcome.problem
                return
            if attempt < self.max_attempts:
                self._abort.wait(self._delay(attempt, outcome.retry_after))
        self._counts.failed(len(batch))
        log.warning(
            "%s %s: %d events not delivered after %d attempts (last: %s)",
            self.name,
            self.target,
            len(batch),
            self.max_attempts,
            last,
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        ceiling = min(self.backoff_max, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret

    def _post(self, body: bytes) -> _Outcome:
        target = self.target
        connection: http.client.HTTPConnection
        if self._context is not None:
            connection = http.client.HTTPSConnection(
                target.host, target.port, timeout=self.timeout, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=self.timeout)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"stockade/{__version__}",
            **self.headers,
        }
        try:
            connection.request("POST", target.request_path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(_RESPONSE_READ_LIMIT)
            status = response.status
            retry_after = _retry_after(response.getheader("Retry-After"))
        except ssl.SSLCertVerificationError as error:
            return _Outcome(retry=False, problem=f"certificate not trusted ({error.verify_message})")
        except (OSError, http.client.HTTPException) as error:
            # The exception text can hold the request line, so only its type is told.
            return _Outcome(retry=True, problem=f"connection failed ({type(error).__name__})")
        finally:
            connection.close()
        if 200 <= status < 300:
            return _Outcome(delivered=True, status=status)
        if status == 429:
            return _Outcome(retry=True, status=status, retry_after=retry_after, problem="HTTP 429")
        if status >= 500:
            return _Outcome(retry=True, status=status, problem=f"HTTP {status}")
        return _Outcome(retry=False, status=status, problem=f"HTTP {status}")

    # -- payloads --------------------------------------------------------------------------
    def payload(self, events: Sequence[AlertEvent]) -> dict[str, object]:
        if self.format == "json":
            return {"events": [event.to_json() for event in events]}
        return slack_message(events)


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivered: bool = False
    retry: bool = False
    status: int | None = None
    retry_after: float | None = None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A checked webhook URL. ``str()`` is ``scheme://host[:port]``: safe to log."""

    scheme: str
    host: str
    port: int | None
    request_path: str  # path and query: may be secret

    @classmethod
    def parse(cls, url: str) -> WebhookTarget:
        if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
            raise ValueError("the webhook URL holds spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError("the webhook URL is malformed") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"the webhook URL must be http or https, not {parts.scheme or 'schemeless'!r}")
        if not parts.hostname:
            raise ValueError("the webhook URL names no host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the webhook URL must not carry credentials; pass them as a header")
        path = parts.path or "/"
        return cls(parts.scheme, parts.hostname, port, f"{path}?{parts.query}" if parts.query else path)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port is not None else "")


def _checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    for key, value in headers.items():
        if not key or any(c in key for c in ":\r\n ") or "\r" in value or "\n" in value:
            raise ValueError(f"invalid webhook header {key!r}")
    return dict(headers)


def _tls_context(ca_bundle: str | os.PathLike[str] | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=os.fspath(ca_bundle) if ca_bundle is not None else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(moment.timestamp()) - now())


# -- Slack ---------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack mrkdwn treats ``&``, ``<`` and ``>`` as markup (``<!channel>``, links): escape them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transition_line(event: TransitionEvent) -> str:
    """One readable line: change, severity, rule, object, message (plain text)."""
    return event.alert_line()


def slack_message(events: Sequence[AlertEvent]) -> dict[str, object]:
    """A Slack incoming-webhook message for ``events`` (see :class:`WebhookSink`)."""
    shown = events[:SLACK_LINES]
    changes = Counter(event.alert_kind for event in events)
    clusters = sorted({event.alert_source for event in events})
    noun = events[0].alert_noun if events else "change"
    summary = f"Stockade: {len(events)} {noun}{'s' if len(events) != 1 else ''} in {', '.join(clusters)}"
    summary += " (" + ", ".join(f"{count} {change}" for change, count in sorted(changes.items())) + ")"
    summary = slack_escape(_clip(summary, SLACK_LINE_CHARS))
    lines = [slack_escape(_clip(event.alert_line(), SLACK_LINE_CHARS)) for event in shown]
    more = len(events) - len(shown)
    blocks: list[dict[str, object]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{summary}*"}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    if more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {more} more"}]})
    text = "\n".join([summary, *lines] + ([f"…and {more} more"] if more else []))
    return {"text": _clip(text, SLACK_TEXT_CHARS), "blocks": blocks}
