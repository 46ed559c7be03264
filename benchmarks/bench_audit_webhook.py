"""`stockade audit serve` under a burst: 10,000 events/s for 10 s, p99 ingest latency, nothing lost.

    python benchmarks/bench_audit_webhook.py              # 10 s at 10,000 events/s
    python benchmarks/bench_audit_webhook.py --seconds 2  # the smoke test runs this

The server runs as its own process (`stockade audit serve`, HTTPS, bearer token). The sender posts
EventLists of 400 events (the API server's default batch size) on a schedule that gives the rate,
over one keep-alive HTTPS connection, as the API server's batch backend does; a 429 is sent again
after its Retry-After, as the API server does. Latency is from the request's scheduled time to its
answer (no coordinated omission). The server's detections file must hold every planted incident,
and its own count of received events must equal what was sent.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.gen_audit_log import GITOPS, generate  # noqa: E402

BATCH = 400
TOKEN = "benchmark-token"
COMMAND = [sys.executable, "-c", "import sys; from stockade.cli.main import main; sys.exit(main())"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=10_000, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    events = [e for _, e in generate(total)]
    total = len(events)  # the generator adds the planted incidents to the benign traffic
    # Every planted incident but the repeated denials (reported once per window, not per plant).
    planted = sum(1 for expected, _ in generate(total) if expected and expected != "AD-011")
    bodies = [
        orjson.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events[i : i + BATCH]})
        for i in range(0, len(events), BATCH)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "token").write_text(TOKEN)
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen(
            [
                *COMMAND,
                "audit",
                "serve",
                "--certificate-dir",
                str(work / "certs"),
                "--port",
                str(port),
                "--token-file",
                str(work / "token"),
                "-o",
                str(work / "detections.jsonl"),
                *(arg for namespace in GITOPS.managed for arg in ("--gitops-namespace", namespace)),
                *(arg for user in GITOPS.operators for arg in ("--gitops-operator", user)),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.stderr is not None
        while "audit webhook on" not in server.stderr.readline():
            pass
        context = ssl.create_default_context(cafile=str(work / "certs" / "ca.crt"))
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        latencies: list[float] = []
        retries = 0
        interval = BATCH / args.rate
        start = time.perf_counter()
        for number, body in enumerate(bodies):
            scheduled = start + number * interval
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            while True:
                connection.request("POST", "/", body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.status != 429:
                    break
                retries += 1
                time.sleep(float(answer.getheader("Retry-After") or 1))
            assert answer.status == 200, answer.status
            latencies.append(time.perf_counter() - scheduled)
        elapsed = time.perf_counter() - start
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
        received = int(re.search(r"(\d+) events received", err).group(1))  # type: ignore[union-attr]
        detections = len((work / "detections.jsonl").read_text().splitlines())
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    print("| events sent | over | received by the server | detections | batches re-sent (429) | latency p50 | p99 |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {total:,} | {elapsed:.1f} s | {received:,} | {detections:,} (planted {planted}) | {retries} | "
        f"{statistics.median(latencies) * 1000:.1f} ms | {p99:.1f} ms |"
    )
    return 0 if received == total and detections >= planted else 1


if __name__ == "__main__":
    raise SystemExit(main())
