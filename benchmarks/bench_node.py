"""`stockade node scan` and `stockade node watch` on a generated control-plane node tree.

    python benchmarks/bench_node.py            # scan time, then watch idle cost, latency and a 10 s load
    python benchmarks/bench_node.py --quick    # shorter idle and load phases (the smoke test runs this)

The tree is a kubeadm control-plane node: four static pod manifests, the kubeconfigs, a PKI of 22
certificates and keys, etcd's data directory, kubelet configuration, flags and systemd unit, CNI
configuration, written with real modes. Each command runs as a child process:
- scan: `stockade node scan --root TREE -f json`, wall time (best of 5); budget 1 s.
- watch idle: CPU seconds the watcher uses while nothing changes (from /proc), and its RSS; budgets
  ≈ 0 and 50 MB.
- watch latency: a file changed every 20 ms; latency is from just before the write to the event's
  line arriving on the watcher's stdout; budget p99 100 ms.
- watch load: 1,000 new key files per second for 10 s; every one must be reported.
Exit status 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from stockade.rules.cp._flags import static_pod  # noqa: E402

LOAD_PATH = re.compile(rb"/etc/kubernetes/pki/load-\d+\.crt")
COMMAND = [sys.executable, "-c", "import sys; from stockade.cli.main import main; sys.exit(main())"]
PKI = (
    "ca",
    "apiserver",
    "apiserver-kubelet-client",
    "front-proxy-ca",
    "front-proxy-client",
    "apiserver-etcd-client",
    "etcd/ca",
    "etcd/server",
    "etcd/peer",
    "etcd/healthcheck-client",
    "sa",
)


def write(root: Path, path: str, text: str, mode: int = 0o600) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    os.chmod(target, mode)


def node_tree(root: Path) -> None:
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        write(root, f"/etc/kubernetes/manifests/{component}.yaml", static_pod(component, ()))
    for conf in ("admin", "super-admin", "scheduler", "controller-manager", "kubelet"):
        write(root, f"/etc/kubernetes/{conf}.conf", "apiVersion: v1\nkind: Config\n")
    for name in PKI:
        write(root, f"/etc/kubernetes/pki/{name}.crt", "-----BEGIN CERTIFICATE-----\n", 0o644)
        write(root, f"/etc/kubernetes/pki/{name}.key", "-----BEGIN PRIVATE KEY-----\n")
    for number in range(200):
        write(root, f"/var/lib/etcd/member/snap/{number:016x}.snap", "x" * 1024)
    os.chmod(root / "var/lib/etcd", 0o700)
    write(
        root,
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "authentication: {x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}}\nrotateCertificates: true\n",
    )
    write(root, "/var/lib/kubelet/kubeadm-flags.env", 'KUBELET_KUBEADM_ARGS="--pod-infra-container-image=pause:3.10"\n')
    write(
        root,
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        '[Service]\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\n'
        "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS\n",
        0o644,
    )
    write(root, "/etc/cni/net.d/10-calico.conflist", '{"name": "k8s-pod-network"}\n')


def bench_scan(root: Path) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [*COMMAND, "node", "scan", "--root", str(root), "-f", "json", "--fail-on", "none"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watcher:
    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [*COMMAND, "node", "watch", "--root", str(root), "--node-name", "bench"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stderr is not None and self.proc.stdout is not None
        self.proc.stderr.readline()  # "watching N directories": ready
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""

    def lines(self, timeout: float, drain: bool = False) -> list[tuple[float, bytes]]:
        """Event lines arriving within ``timeout``, each with its arrival time: the first batch, or
        (``drain``) everything until the stream has been quiet for half a second."""
        found: list[tuple[float, bytes]] = []
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return found
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5) if drain and found else left)
            if not ready:
                return found
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return found  # the watcher exited
            now = time.perf_counter()
            self.buffer += chunk
            *complete, self.buffer = self.buffer.split(b"\n")
            found.extend((now, line) for line in complete if line)
            if found and not drain:
                return found

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _load_paths(lines: list[tuple[float, bytes]]) -> set[bytes]:
    return {match.group(0) for _, line in lines if (match := LOAD_PATH.search(line))}


def bench_watch(root: Path, idle: float, load_seconds: float) -> dict[str, float]:
    watcher = Watcher(root)
    pid = watcher.proc.pid
    time.sleep(0.5)
    before = cpu_seconds(pid)
    time.sleep(idle)
    idle_cpu = cpu_seconds(pid) - before
    rss = rss_mb(pid)
    latencies = []
    target = root / "etc/kubernetes/admin.conf"
    for number in range(200):
        start = time.perf_counter()
        target.write_text(f"apiVersion: v1\nkind: Config\n# {number}\n")
        arrived = watcher.lines(1.0)
        if arrived:
            latencies.append(arrived[0][0] - start)
        time.sleep(0.02)
    pki = root / "etc/kubernetes/pki"
    expected = int(1000 * load_seconds)
    start = time.perf_counter()
    received: set[bytes] = set()  # paths reported (a file may be reported created, then modified)
    for number in range(expected):
        (pki / f"load-{number}.crt").write_text("x")
        if number % 100 == 99:  # pace to 1,000 per second, reading events as they come
            received |= _load_paths(watcher.lines(0.001, drain=True))
            pause = start + (number + 1) / 1000 - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    received |= _load_paths(watcher.lines(10.0, drain=True))
    watcher.stop()
    latencies.sort()
    return {
        "idle_cpu": idle_cpu,
        "idle_seconds": idle,
        "rss": rss,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "changes": expected,
        "reported": len(received),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "node"
        node_tree(root)
        scan = bench_scan(root)
        watch = bench_watch(root, idle=2.0 if args.quick else 10.0, load_seconds=1.0 if args.quick else 10.0)
    print("| measure | value | budget |\n|---|---|---|")
    print(f"| `node scan` of a control-plane node tree (best of 5, wall) | {scan:.2f} s | 1 s |")
    print(f"| `node watch` idle CPU over {watch['idle_seconds']:.0f} s | {watch['idle_cpu']:.2f} s | ≈ 0 |")
    print(f"| `node watch` RSS | {watch['rss']:.0f} MB | 50 MB |")
    print(f"| event latency p50 / p99 | {watch['p50']:.1f} / {watch['p99']:.1f} ms | p99 100 ms |")
    print(f"| load: new key files at 1,000/s, reported | {watch['reported']:,} of {watch['changes']:,} | all |")
    missed = (
        scan > 1.0
        or watch["idle_cpu"] > 0.05 * watch["idle_seconds"]
        or watch["rss"] > 50
        or watch["p99"] > 100
        or watch["reported"] < watch["changes"]
    )
    if missed:
        print("\nA budget was missed.")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
