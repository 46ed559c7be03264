"""Kustomizations that name remote resources: fetched only when allowed, within the real time limit,
and a failure quotes what kubectl said. Uses the real ``kubectl kustomize`` and a local HTTP server."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stockade.sources.kustomize import is_remote_reference, render_kustomization
from stockade.sources.limits import ParseLimits

ALLOW = ParseLimits(allow_remote_kustomize=True)
DEPLOYMENT = b"""apiVersion: apps/v1
kind: Deployment
metadata: {name: remote-web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
"""


class Served(ThreadingHTTPServer):
    daemon_threads = True
    hits = 0


class Handler(BaseHTTPRequestHandler):
    server: Served

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", str(len(DEPLOYMENT)))
        self.end_headers()
        self.wfile.write(DEPLOYMENT)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def web() -> Iterator[Served]:
    server = Served(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def kustomization(directory: Path, *resources: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text("resources:\n" + "".join(f"- {r}\n" for r in resources))
    return directory


def test_a_remote_resource_is_not_fetched_without_the_flag(web: Served, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{web.server_port}/deploy.yaml"
    app = kustomization(tmp_path / "app", url)
    result = render_kustomization(str(app), ParseLimits())
    assert web.hits == 0
    assert result.resources == []
    assert [e.message for e in result.errors] == [
        f"kustomization {app} loads the remote resource {url!r}; remote resources are not fetched unless "
        "allowed (--allow-remote-kustomize, or ParseLimits(allow_remote_kustomize=True))"
    ]
    allowed = render_kustomization(str(app), ALLOW)
    assert allowed.errors == []
    assert [r.name for r in allowed.resources] == ["remote-web"]
    assert web.hits >= 1


def test_a_remote_base_behind_a_local_overlay_is_found(web: Served, tmp_path: Path) -> None:
    base = kustomization(tmp_path / "base", "github.com/example/repo//deploy?ref=v1")
    overlay = kustomization(tmp_path / "overlay", "../base")
    result = render_kustomization(str(overlay), ParseLimits())
    assert len(result.errors) == 1
    assert f"kustomization {overlay}/../base loads the remote resource" in result.errors[0].message
    assert base.exists()
    assert web.hits == 0


def test_remote_references_are_told_from_local_paths() -> None:
    for remote in ("https://x.example/a.yaml", "git@github.com:o/r", "github.com/o/r//base?ref=v1", "git::https://h/r"):
        assert is_remote_reference(remote), remote
    for local in ("base", "../base", "./deploy.yaml", "deploy.yaml", "/abs/path", "overlays/prod"):
        assert not is_remote_reference(local), local


def test_a_silent_remote_meets_the_stated_time_limit(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    try:
        app = kustomization(tmp_path / "app", f"http://127.0.0.1:{silent.getsockname()[1]}/deploy.yaml")
        started = time.monotonic()
        result = render_kustomization(str(app), ALLOW, timeout=2)
        waited = time.monotonic() - started
    finally:
        silent.close()
    assert [e.message for e in result.errors] == ["kubectl kustomize did not finish within 2s"]
    assert waited < 3.5  # not once for the wrapper and once more for the directory


def test_a_failed_fetch_quotes_kubectl(tmp_path: Path) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    app = kustomization(tmp_path / "app", f"http://127.0.0.1:{port}/deploy.yaml")
    result = render_kustomization(str(app), ALLOW)
    assert len(result.errors) == 1
    message = result.errors[0].message
    assert message.startswith("kubectl kustomize failed: ")
    assert "connection refused" in message
    assert not message.rstrip().endswith(">")


def test_the_cli_asks_for_the_flag_and_exits_3(web: Served, tmp_path: Path) -> None:
    app = kustomization(tmp_path / "app", f"http://127.0.0.1:{web.server_port}/deploy.yaml")
    command = [sys.executable, "-m", "stockade.cli.main", "scan", str(app), "--no-progress", "-f", "json"]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 3, refused.stderr
    assert "--allow-remote-kustomize" in refused.stderr
    assert web.hits == 0
    allowed = subprocess.run(
        [*command, "--allow-remote-kustomize"], capture_output=True, text=True, timeout=60, check=False
    )
    assert "remote-web" in allowed.stdout
    assert web.hits >= 1
