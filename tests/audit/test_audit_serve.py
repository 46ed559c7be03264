"""`stockade audit serve`: the API server's webhook backend over real HTTPS."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest
from benchmarks.gen_audit_log import generate

from stockade.admission.certs import issue, write_files
from stockade.admission.server import AdmissionServer
from stockade.audit.detections import Detection, Detector
from stockade.audit.ingest import Ingest, create_app
from stockade.cli.main import main

TOKEN = "audit-webhook-token"


def certificates(directory: Path) -> tuple[Path, Path, ssl.SSLContext]:
    now = dt.datetime.now(dt.UTC)
    files = write_files(
        issue("test-ca", "stockade-audit", ["127.0.0.1", "localhost"], start=now, end=now + dt.timedelta(days=1)),
        directory,
    )
    context = ssl.create_default_context(cafile=str(files.ca))
    return files.cert, files.key, context


def post(url: str, context: ssl.SSLContext, body: bytes, token: str | None = TOKEN) -> int:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def event_list(events: list[dict[str, object]]) -> bytes:
    return orjson.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events})


def test_a_burst_is_judged_with_nothing_lost(tmp_path: Path) -> None:
    """20,000 events posted in 400-event batches (the API server's default) as fast as possible."""
    cert, key, context = certificates(tmp_path)
    log = [e for _, e in generate(20_000)]
    found: list[Detection] = []
    ingest = Ingest(Detector(), found.append, capacity=5_000)
    with AdmissionServer(create_app(ingest, TOKEN), cert_file=cert, key_file=key, port=0) as server:
        for start in range(0, len(log), 400):
            body = event_list(log[start : start + 400])
            while (status := post(server.url + "/audit", context, body)) == 429:
                time.sleep(0.05)  # what the API server's batch backend does: send the batch again later
            assert status == 200
        assert post(server.url, context, event_list(log[:1]), token="wrong") == 401
        assert post(server.url, context, b"{not json") == 400
        assert post(server.url, context, b'{"kind": "Pod"}') == 400
    ingest.drain()
    assert ingest.stats.received == len(log) and ingest.stats.judged == len(log)
    assert ingest.queue.maxsize == 5_000  # memory bounded by the queue, whatever the burst
    planted = {"AD-001", "AD-005", "AD-006"}
    assert planted <= {d.info.id for d in found}


def test_a_full_queue_answers_429_at_once(tmp_path: Path) -> None:
    cert, key, context = certificates(tmp_path)
    gate = threading.Event()

    def slow(detection: Detection) -> None:
        gate.wait(5)

    ingest = Ingest(Detector(), slow, capacity=10)
    log = [e for _, e in generate(2_000)]
    exec_event = next(e for expected, e in generate(2_000) if expected == "AD-001")
    with AdmissionServer(create_app(ingest, None), cert_file=cert, key_file=key, port=0) as server:
        assert post(server.url, context, event_list([exec_event])) == 200  # the worker blocks on it
        deadline = time.monotonic() + 5
        while ingest.queue.qsize() and time.monotonic() < deadline:
            time.sleep(0.01)  # the worker takes the event and blocks on it: the queue is empty again
        assert post(server.url, context, event_list(log[:10])) == 200
        started = time.monotonic()
        assert post(server.url, context, event_list(log[:10])) == 429
        assert time.monotonic() - started < 1.0  # refused at once: the API server never waits
    gate.set()
    ingest.drain()
    assert ingest.stats.refused == 10


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_serves_and_writes_detections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    out = tmp_path / "detections.jsonl"
    certs = tmp_path / "certs"
    exec_event = next(e for expected, e in generate(2_000) if expected == "AD-001")

    def send() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (certs / "ca.crt").exists():
                try:
                    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
                    post(f"https://127.0.0.1:{port}/", context, event_list([exec_event]))
                    return
                except (urllib.error.URLError, ssl.SSLError, OSError):
                    pass  # not serving yet
            time.sleep(0.05)

    threading.Thread(target=send, daemon=True).start()
    code = main(
        [
            "audit",
            "serve",
            "--certificate-dir",
            str(certs),
            "--port",
            str(port),
            "--token-file",
            str(token_file),
            "-o",
            str(out),
            "--duration",
            "4",
        ]
    )
    assert code == 0
    assert oct((certs / "tls.key").stat().st_mode & 0o777) == "0o600"
    [line] = out.read_text().splitlines()
    assert json.loads(line)["id"] == "AD-001"
    assert "1 events received" in capsys.readouterr().err


def test_the_webhook_benchmark_runs() -> None:
    import re
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_audit_webhook.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--seconds", "1"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [(sent, received)] = re.findall(r"^\| ([\d,]+) \| [\d.]+ s \| ([\d,]+) \|", done.stdout, re.MULTILINE)
    assert sent == received
