"""Serving the webhook over HTTPS: uvicorn, TLS from files reloaded when they change, slow clients cut off.

Why uvicorn and Starlette (rather than aiohttp): both are already Stockade's dependencies (the
watcher's health server uses them), so the webhook adds no package; uvicorn's h11 protocol is a
plain asyncio protocol we can extend to bound how long a request may take to arrive (so is its
httptools protocol, used when ``httptools`` is installed: its C parser takes a third off the
webhook's time per request); uvicorn
accepts a ready SSLContext on its config, which is what reloading certificates in place needs; and
an admission decision is short CPU work done on the event loop, so the one-process asyncio model
costs nothing over aiohttp's.

- **TLS** from a certificate and key file (PEM), at least TLS 1.2. Every ``reload_interval``
  seconds the files' identity (inode, size, mtime) is compared with what was loaded; when it
  changed, the pair is proven on a scratch context and then loaded into the live SSLContext with
  ``load_cert_chain`` (on the event loop, between handshakes): new connections get the new
  certificate, open ones keep theirs. A pair that does not load (one file written before the
  other) keeps the old one serving, and is tried again when the files change.
- **Slow clients**: a request (headers and body) must arrive within ``request_timeout`` seconds of
  its first byte, or the connection is closed; idle keep-alive connections close after
  ``keep_alive`` seconds; headers are bounded by the parser (h11 16 KiB, llhttp 80 KiB); past ``max_connections`` open
  connections new requests get 503. A slow client holds only its own connection: the event loop
  serves everyone else meanwhile.
- It binds to 127.0.0.1 unless told otherwise (in a pod the manifests pass ``--address 0.0.0.0``).
  No access log: the API server calls many times a second, and the decision log says what matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import socket
import ssl
import tempfile
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from stockade._serving import ServingThread, listening_socket, tls_pair_problem
from stockade.admission.metrics import AdmissionMetrics
from stockade.errors import UsageError

log = logging.getLogger("stockade.admission")

DEFAULT_PORT = 8443
DEFAULT_REQUEST_TIMEOUT = 10.0  # the API server gives a webhook at most 30 s, 10 by default
DEFAULT_KEEP_ALIVE = 5.0
DEFAULT_MAX_CONNECTIONS = 1000
DEFAULT_RELOAD_INTERVAL = 2.0
# uvloop's event loop (libuv) where it is installed: the webhook's time per request is mostly the
# loop's and TLS's, not the decision's (0.4 ms); plain asyncio otherwise.
_LOOP = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


class _Deadline:
    """A deadline for each request to arrive in full (headers and body), counted from its first
    byte (or from the connection for the first request), on one of uvicorn's HTTP protocols."""

    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    _deadline: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any
    client: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        # An answer goes out in several writes (headers, body); without TCP_NODELAY the second
        # waits for the client's delayed ACK: 40 ms on every request after the first.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not None and not self.cycle.more_body:
            self._disarm()  # the whole request is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.warning(
                "closed a connection from %s: its request took over %.0fs to arrive", self.client, self.request_timeout
            )
            self.transport.close()


def _protocol(request_timeout: float) -> type[asyncio.Protocol]:
    """httptools' parser (llhttp, in C) where it is installed, h11's otherwise; with the deadline."""
    base: type[asyncio.Protocol] = H11Protocol
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    return type("GuardedProtocol", (_Deadline, base), {"request_timeout": request_timeout})


def _stamp(paths: tuple[Path, Path]) -> tuple[tuple[int, int, int], ...] | None:
    """What identifies the files' contents now (None while one of them cannot be read)."""
    try:
        return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in (os.stat(p) for p in paths))
    except OSError:
        return None


@contextlib.contextmanager
def _snapshot(cert_file: Path, key_file: Path) -> Iterator[tuple[str, str]]:
    """Copies of the two files, taken once, in a private directory removed afterwards: what is
    proven and what is loaded are the same bytes, whatever happens to the files meanwhile."""
    cert, key = cert_file.read_bytes(), key_file.read_bytes()
    with tempfile.TemporaryDirectory(prefix="stockade-tls-") as directory:
        paths = []
        for name, data in (("tls.crt", cert), ("tls.key", key)):
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            paths.append(path)
        yield paths[0], paths[1]


def check_certificate(cert_file: Path, key_file: Path) -> None:
    """Raise :class:`~stockade.errors.UsageError` when the pair cannot serve TLS."""
    problem = tls_pair_problem(cert_file, key_file)
    if problem is not None:
        raise UsageError(problem)


class AdmissionServer:
    """Serves an ASGI ``app`` over HTTPS on ``host:port`` (``port=0``: any free port, see :attr:`url`)
    in a daemon thread: :meth:`start`, :meth:`stop`, or ``with``."""

    def __init__(
        self,
        app: Any,
        *,
        cert_file: str | Path,
        key_file: str | Path,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        keep_alive: float = DEFAULT_KEEP_ALIVE,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        reload_interval: float = DEFAULT_RELOAD_INTERVAL,
        metrics: AdmissionMetrics | None = None,
    ) -> None:
        self.cert_file, self.key_file = Path(cert_file), Path(key_file)
        check_certificate(self.cert_file, self.key_file)
        self.host = host
        self.port = port
        self.reload_interval = reload_interval
        self.metrics = metrics
        self.config = uvicorn.Config(
            app,
            ssl_certfile=str(self.cert_file),
            ssl_keyfile=str(self.key_file),
            http=_protocol(request_timeout),
            loop=_LOOP,
            timeout_keep_alive=max(1, round(keep_alive)),
            limit_concurrency=max_connections,
            log_config=None,  # leave the process's logging as it is
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            server_header=False,
        )
        self.config.load()
        assert self.config.ssl is not None
        self.ssl: ssl.SSLContext = self.config.ssl
        self.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        self._loaded = _stamp((self.cert_file, self.key_file))
        self._failed: tuple[tuple[int, int, int], ...] | None = None  # a pair that did not load (said once)
        self._serving: ServingThread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    # -- certificates ----------------------------------------------------------------------------
    def reload_if_changed(self) -> bool:
        """Load the certificate and key again if the files changed since they were loaded; True when
        a new pair is now served. Called on the event loop.

        A failed ``load_cert_chain`` leaves an SSLContext half changed (the new certificate with
        the old key: every handshake fails), so the pair is read once, proven on a scratch context,
        and only then loaded into the live one, from the same bytes."""
        stamp = _stamp((self.cert_file, self.key_file))
        if stamp is None or stamp in (self._loaded, self._failed):
            return False
        try:
            with _snapshot(self.cert_file, self.key_file) as (cert, key):
                ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
                self.ssl.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError, ValueError) as exc:
            log.warning("the serving certificate changed but does not load (%s); still serving the old one", exc)
            if self.metrics is not None:
                self.metrics.certificate_reloads.labels(result="failed").inc()
            self._failed = stamp
            return False
        self._loaded = stamp
        log.info("reloaded the serving certificate from %s", self.cert_file)
        if self.metrics is not None:
            self.metrics.certificate_reloads.labels(result="ok").inc()
        return True

    async def _watch_certificates(self) -> None:
        while True:
            await asyncio.sleep(self.reload_interval)
            self.reload_if_changed()

    async def _serve(self, serving: Coroutine[Any, Any, None]) -> None:
        watcher = asyncio.create_task(self._watch_certificates())
        try:
            await serving
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> AdmissionServer:
        """Bind (a port in use raises OSError here) and serve in a daemon thread."""
        if self._serving is not None:
            return self
        sock = listening_socket(self.host, self.port, 512)
        self.port = int(sock.getsockname()[1])
        serving = ServingThread(uvicorn.Server(self.config), sock, "stockade-admission", self._serve)
        serving.start(timeout, f"the admission webhook on {self.url}")
        self._serving = serving
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._serving is not None:
            self._serving.stop(timeout)
            self._serving = None

    def __enter__(self) -> AdmissionServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
