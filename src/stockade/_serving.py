"""Serving an ASGI app with uvicorn in a daemon thread, for the watcher's health server, the
admission webhook and the dashboard (sibling layers, so the one implementation lives here; stdlib
and uvicorn only), and the check that a certificate and key can serve TLS.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvicorn


def tls_pair_problem(cert_file: Path, key_file: Path) -> str | None:
    """Why the certificate and key files cannot serve TLS, or None when they can."""
    for path in (cert_file, key_file):
        if not path.is_file():
            return f"no file {str(path)!r}"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError, ValueError) as exc:
        return f"cannot serve TLS with certificate {cert_file} and key {key_file}: {exc}"
    return None


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A TCP socket bound and listening on ``host:port`` (a port in use raises OSError here)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns TCP_NODELAY on only for sockets that say they are TCP; without
    # it an answer's second write waits for the client's delayed ACK (40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class ServingThread:
    """``server`` serving ``sock`` on its config's event loop (uvloop's where it is installed) in a
    daemon thread; ``main`` wraps the serving coroutine when the caller runs more beside it."""

    def __init__(
        self,
        server: uvicorn.Server,
        sock: socket.socket,
        name: str,
        main: Callable[[Coroutine[Any, Any, None]], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self.server = server
        factory = server.config.get_loop_factory()

        def serve() -> None:
            serving = server.serve(sockets=[sock])
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(main(serving) if main is not None else serving)

        self.thread = threading.Thread(target=serve, name=name, daemon=True)
        self.sock = sock

    def start(self, timeout: float, what: str) -> None:
        """Start and wait until it serves; RuntimeError naming ``what`` when it does not in time."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.server.should_exit = True
                self.sock.close()
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.01)

    def stop(self, timeout: float) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
