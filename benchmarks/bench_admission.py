"""The admission webhook under load: latency at fixed request rates over HTTPS on loopback.

    python benchmarks/bench_admission.py                          # 100, 500 and 1,000 requests/s, 30 s each
    python benchmarks/bench_admission.py --rates 500 --seconds 60
    python benchmarks/bench_admission.py --rates 100 --seconds 2  # a quick look
    python benchmarks/bench_admission.py --server command         # the command itself, logs and all
    python benchmarks/bench_admission.py --policies benchmarks/policies/cel   # and ten CEL policies

The server is the webhook as ``stockade admission serve`` runs it (uvicorn, HTTPS, the webhook app,
the decider with Pod Security on), in a child process pinned to one core; the load generator runs
in this process, pinned to the other core. With ``--server command`` the child is the
``stockade admission serve`` command itself: the configuration read from a file, a JSON log line
for every denial (to a file), and the namespaces' labels from a namespace cache that lists and
watches a fake API server (``stockade.testing``) running in the generator's process. The generator is open-loop (the one written here:
asyncio over TLS keep-alive connections): requests are scheduled at the fixed rate whatever the
answers do, and each latency is measured from its *scheduled* send time to the complete answer,
so a stalled server is charged for every request it held back (no coordinated omission). A request
waits for a free connection from a pool of ``--connections`` when all are busy, as the API server's
client does.

Requests are AdmissionReviews of the Deployments, Pods, StatefulSets, DaemonSets, Jobs and CronJobs of
examples/demo and tests/data/corpus: CREATEs, and every fourth an UPDATE carrying the object as
``oldObject`` too. The configuration enforces a few rules, warns on the rest, and runs Pod Security
with a restricted warn default, so most answers carry warnings.

Figures per rate: p50 / p95 / p99 / max latency and errors (a failed connection, a non-200 status,
an answer that is not an AdmissionReview). Budget: p99 <= 5 ms at 500 requests/s with no errors.
Exit status 1 when the budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
BUDGET_RATE = 500
BUDGET_P99 = 0.005
CONFIG: dict[str, Any] = {
    "modes": {
        "default": "warn",
        "rules": {"privileged-container": "enforce", "host-network": "enforce", "host-pid": "enforce"},
    },
    "pod-security": {"defaults": {"enforce": "baseline", "warn": "restricted"}},
}
KINDS = ("Deployment", "Pod", "StatefulSet", "DaemonSet", "Job", "CronJob")


def _reviews() -> list[bytes]:
    from stockade.api import collect
    from stockade.sources.files import FileSource

    read = collect([FileSource([str(ROOT / "examples" / "demo"), str(ROOT / "tests" / "data" / "corpus")])])
    bodies = []
    for n, resource in enumerate(r for r in read.resources if r.kind in KINDS):
        group, _, version = resource.api_version.rpartition("/")
        update = n % 4 == 3
        request: dict[str, Any] = {
            "uid": f"bench-{n}",
            "kind": {"group": group, "version": version, "kind": resource.kind},
            "resource": {"group": group, "version": version, "resource": resource.kind.lower() + "s"},
            "operation": "UPDATE" if update else "CREATE",
            "name": resource.name,
            "namespace": resource.namespace or "default",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:authenticated"]},
            "object": resource.raw,
        }
        if update:
            request["oldObject"] = resource.raw
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
        bodies.append(orjson.dumps(review))
    return bodies


def _namespaces(bodies: list[bytes]) -> list[dict[str, Any]]:
    """A Namespace for every namespace the reviews name, some with Pod Security labels."""
    names = sorted({orjson.loads(body)["request"]["namespace"] for body in bodies})
    levels = ("baseline", "restricted", None)
    namespaces = []
    for n, name in enumerate(names):
        labels = {"kubernetes.io/metadata.name": name}
        level = levels[n % len(levels)]
        if level is not None:
            labels["pod-security.kubernetes.io/warn"] = level
        namespaces.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    return namespaces


def serve_command(
    directory: Path, kubeconfig: Path, log: Path, config_values: dict[str, Any]
) -> tuple[subprocess.Popen[bytes], int, bytes]:
    """``stockade admission serve`` as a user runs it, pinned to core 0; returns once it is ready."""
    from stockade.testing._tls import make_server_certificate

    tls = make_server_certificate(directory)
    config = directory / "admission.yaml"
    config.write_text(orjson.dumps(config_values).decode())  # JSON is YAML
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [
        str(Path(sys.executable).with_name("stockade")), "admission", "serve", "--config", str(config),
        "--cert", str(tls.cert_file), "--key", str(tls.key_file), "--port", str(port),
        "--kubeconfig", str(kubeconfig),
    ]  # fmt: skip
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=log.open("wb"), preexec_fn=lambda: os.sched_setaffinity(0, {0})
    )
    context = ssl.create_default_context(cadata=tls.ca_pem.decode())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=1) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls_socket,
            ):
                tls_socket.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if tls_socket.recv(64).startswith(b"HTTP/1.1 200"):
                    return child, port, tls.ca_pem
        except OSError:
            pass
        if child.poll() is not None:
            raise SystemExit(f"stockade admission serve exited with {child.returncode}: see {log}")
        time.sleep(0.1)
    child.terminate()
    raise SystemExit(f"stockade admission serve was not ready within 30 s: see {log}")


def serve(directory: str, ready: Any, loop: str | None, config: dict[str, Any]) -> None:
    """The child: the webhook on one core until terminated (``loop``: force asyncio's or uvloop's)."""
    os.sched_setaffinity(0, {0})
    if loop is not None:
        import stockade.admission.server

        stockade.admission.server._LOOP = loop
    from stockade.admission.app import build_app
    from stockade.admission.config import parse_admission_config
    from stockade.admission.decide import AdmissionDecider
    from stockade.admission.metrics import AdmissionMetrics
    from stockade.admission.namespaces import StaticNamespaces
    from stockade.admission.server import AdmissionServer
    from stockade.testing._tls import make_server_certificate

    tls = make_server_certificate(Path(directory))
    metrics = AdmissionMetrics()
    decider = AdmissionDecider(parse_admission_config(config), StaticNamespaces({}))
    server = AdmissionServer(
        build_app(decider, metrics), cert_file=tls.cert_file, key_file=tls.key_file, port=0, metrics=metrics
    ).start()
    ready.send((server.port, tls.ca_pem))
    while True:
        time.sleep(3600)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, body: bytes) -> bytes:
        head = (
            f"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        if not status.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(status.decode("latin-1").strip())
        return answer


async def _run_rate(
    port: int, context: ssl.SSLContext, bodies: list[bytes], rate: int, seconds: float, connections: int
) -> tuple[list[float], int]:
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="127.0.0.1")
        pool.put_nowait(_Connection(reader, writer))
    latencies: list[float] = []
    errors = 0

    async def one(body: bytes, scheduled: float) -> None:
        nonlocal errors
        connection = await pool.get()
        try:
            answer = await connection.post(body)
            if b'"response"' not in answer:
                errors += 1
        except (OSError, RuntimeError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="127.0.0.1")
            connection = _Connection(reader, writer)
        finally:
            pool.put_nowait(connection)
        latencies.append(time.perf_counter() - scheduled)

    loop_start = time.perf_counter()
    total = int(rate * seconds)
    tasks = []
    for n in range(total):
        scheduled = loop_start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(bodies[n % len(bodies)], scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().writer.close()
    return latencies, errors


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="100,500,1000", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each rate runs")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections in the pool")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), help="the server's event loop (default: as served)")
    parser.add_argument(
        "--server",
        choices=("app", "command"),
        default="app",
        help="app: the webhook app and decider in a forked child; command: the stockade admission serve command",
    )
    parser.add_argument(
        "--policies",
        metavar="DIR",
        help="user policies the webhook also runs, in the modes they ask for (e.g. benchmarks/policies/cel)",
    )
    args = parser.parse_args()
    config = dict(CONFIG)
    if args.policies:
        config["policies"] = [str(Path(args.policies).resolve())]
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    bodies = _reviews()
    directory = tempfile.mkdtemp(prefix="bench-admission-")
    with contextlib.ExitStack() as stack:
        if args.server == "command":
            if args.loop is not None:
                parser.error("--loop applies to --server app only (the command serves with uvloop where it can)")
            from stockade.testing import FakeApiServer

            cluster = stack.enter_context(FakeApiServer(_namespaces(bodies)))
            kubeconfig = cluster.kubeconfig(Path(directory) / "kubeconfig")
            log = Path(directory) / "serve.log"
            process, port, ca_pem = serve_command(Path(directory), kubeconfig, log, config)
            stack.callback(process.terminate)
            print(f"# the server: stockade admission serve (pid {process.pid}), its JSON log in {log}")
        else:
            ready, child_end = mp.Pipe()
            child = mp.get_context("fork").Process(
                target=serve, args=(directory, child_end, args.loop, config), daemon=True
            )
            child.start()
            stack.callback(child.terminate)
            port, ca_pem = ready.recv()
        return _measure(args, rates, bodies, port, ca_pem)


def _measure(args: argparse.Namespace, rates: list[int], bodies: list[bytes], port: int, ca_pem: bytes) -> int:
    os.sched_setaffinity(0, {1})
    context = ssl.create_default_context(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
    load = os.getloadavg()[0]
    print(
        f"# bench_admission: server pinned to core 0, open-loop generator (asyncio, {args.connections} TLS keep-alive"
        f" connections) on core 1; {len(bodies)} distinct reviews; server loop {args.loop or 'as served'};"
        f" load average {load:.2f} at start; user policies: {args.policies or 'none'}"
    )
    print("| requests/s | requests | p50 | p95 | p99 | max | errors |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    asyncio.run(_run_rate(port, context, bodies, 50, 1.0, args.connections))  # warm-up
    for rate in rates:
        latencies, errors = asyncio.run(_run_rate(port, context, bodies, rate, args.seconds, args.connections))
        latencies.sort()
        p50, p95, p99 = (_quantile(latencies, q) for q in (0.5, 0.95, 0.99))
        print(
            f"| {rate:,} | {len(latencies):,} | {p50 * 1000:.2f} ms | {p95 * 1000:.2f} ms | {p99 * 1000:.2f} ms"
            f" | {latencies[-1] * 1000:.2f} ms | {errors} |"
        )
        if rate == BUDGET_RATE:
            ok = p99 <= BUDGET_P99 and errors == 0
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print("budget met: p99 <= 5 ms at 500 requests/s, no errors" if ok else "BUDGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
