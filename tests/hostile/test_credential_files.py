"""A scan stopped by a signal leaves no copy of the kubeconfig's client key behind."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from stockade.testing import FakeApiServer
from stockade.testing._tls import make_server_certificate
from tests.testing.objects import pod


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer([pod("web", "shop")], tls=True, token="t0ken") as started:
        yield started


def kubeconfig_with_client_key(server: FakeApiServer, tmp_path: Path) -> tuple[Path, bytes]:
    """A kubeconfig whose user carries client-certificate-data and client-key-data inline."""
    (tmp_path / "client").mkdir()
    pair = make_server_certificate(tmp_path / "client")
    key = pair.key_file.read_bytes()
    path = server.kubeconfig(tmp_path / "config")
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"]["client-certificate-data"] = base64.b64encode(pair.cert_file.read_bytes()).decode()
    config["users"][0]["user"]["client-key-data"] = base64.b64encode(key).decode()
    path.write_text(yaml.safe_dump(config))
    pair.key_file.unlink()
    return path, key


def files_holding(directory: Path, secret: bytes) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and secret in p.read_bytes()]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def scan_and_signal(
    server: FakeApiServer, tmp_path: Path, signum: int
) -> tuple[subprocess.CompletedProcess[str], Path]:
    path, key = kubeconfig_with_client_key(server, tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server.inject("/api/v1/pods", delay=30, times=5)  # the scan is mid-way while the list hangs
    command = [sys.executable, "-m", "stockade.cli.main", "scan", "--kubeconfig", str(path), "--kinds", "pods"]
    process = subprocess.Popen(
        [*command, "--no-progress"],
        env={**os.environ, "TMPDIR": str(temporary)},
        # A test run started in the background (nohup, `&` in a script) ignores SIGINT, and a child
        # inherits that: Python then keeps ignoring it, as it should. Give the scan the default.
        preexec_fn=_default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    give_up = time.monotonic() + 30
    while not any(r.path == "/version" for r in server.requests) and time.monotonic() < give_up:
        time.sleep(0.05)
    time.sleep(0.5)  # past discovery, into the list that hangs (a loaded machine needs the margin)
    assert files_holding(temporary, key), "the client wrote no key file: the test would prove nothing"
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()  # not left running into the next test
        process.communicate()
        raise
    assert files_holding(temporary, key) == []
    assert list(temporary.rglob("*")) == []
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), temporary


def test_sigterm_mid_scan_removes_the_client_key(server: FakeApiServer, tmp_path: Path) -> None:
    done, _ = scan_and_signal(server, tmp_path, signal.SIGTERM)
    assert done.returncode == -signal.SIGTERM  # still ends the way SIGTERM ends a process


def test_sigint_mid_scan_removes_the_client_key(server: FakeApiServer, tmp_path: Path) -> None:
    done, _ = scan_and_signal(server, tmp_path, signal.SIGINT)
    assert done.returncode == 130
    assert "interrupted" in done.stderr
