"""Serving the dashboard: bound to loopback unless told otherwise, in the foreground (the CLI) or
in a daemon thread (tests, embedding)."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from stockade._serving import ServingThread, listening_socket, tls_pair_problem
from stockade.dashboard.app import DashboardSettings, create_app
from stockade.store import FindingStore

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Tls:
    """A serving certificate and its key (PEM files)."""

    cert_file: Path
    key_file: Path

    def check(self) -> None:
        """Raise ValueError, naming the files, when the pair cannot serve TLS."""
        problem = tls_pair_problem(self.cert_file, self.key_file)
        if problem is not None:
            raise ValueError(problem)


class DashboardServer:
    """The dashboard over ``store`` on ``host:port`` (port 0: any free port; see ``url``), over
    HTTPS when ``tls`` is given (checked here: a pair that cannot serve raises ValueError)."""

    def __init__(
        self,
        store: FindingStore,
        settings: DashboardSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: Tls | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        if tls is not None:
            tls.check()
        self.app = create_app(store, settings)
        self._serving: ServingThread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _server(self) -> tuple[uvicorn.Server, object]:
        sock = listening_socket(self.host, self.port, 128)
        self.port = int(sock.getsockname()[1])
        tls = {"ssl_certfile": str(self.tls.cert_file), "ssl_keyfile": str(self.tls.key_file)} if self.tls else {}
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            **tls,  # type: ignore[arg-type]
        )
        if self.tls is not None:
            config.load()
            assert config.ssl is not None
            config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        return uvicorn.Server(config), sock

    def start(self, timeout: float = 10.0) -> DashboardServer:
        """Bind (a port in use raises OSError here) and serve in a daemon thread."""
        server, sock = self._server()
        serving = ServingThread(server, sock, "stockade-dashboard")  # type: ignore[arg-type]
        serving.start(timeout, f"the dashboard on {self.url}")
        self._serving = serving
        return self

    def run(self) -> None:
        """Bind and serve in this thread until interrupted."""
        server, sock = self._server()
        server.run(sockets=[sock])  # type: ignore[list-item]

    def warm(self) -> None:
        """Read what the first overview would wait for (each cluster's trend) ahead of it."""
        self.app.state.warm()

    def stop(self, timeout: float = 5.0) -> None:
        if self._serving is not None:
            self._serving.stop(timeout)
            self._serving = None

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
