"""RBAC index: build time, peak memory and query latency on a large generated cluster.

    python benchmarks/bench_rbac.py                    # 5,000 namespaces (the target size)
    python benchmarks/bench_rbac.py --namespaces 500   # a quicker run

The last row is the risky-access scan: every RB rule through the public ``stockade.scan`` over the
generated objects (Inventory, its own index, exposures and privileged-access review; ≤ 5 s).

The cluster comes from benchmarks/gen_rbac_cluster.py, in memory. Peak RSS is the process's own
(``ru_maxrss``), so it includes the raw objects and the Inventory, not only the index. Query
latency is the median over repeated runs of each query. Figures go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchmarks.gen_rbac_cluster import generate
from stockade import SourceResult
from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.rbac import RbacIndex, Request, Subject

RBAC_GROUP = "rbac.authorization.k8s.io"
BUILD_TARGET_S = 2.0
RSS_TARGET_MB = 500
QUERY_TARGET_MS = 10.0
SCAN_TARGET_S = 5.0


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(query: Callable[[], object], repeat: int) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = query()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=5_000)
    parser.add_argument("--cluster-roles", type=int, default=2_000)
    parser.add_argument("--cluster-role-bindings", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    start = time.perf_counter()
    raws = generate(args.namespaces, args.cluster_roles, args.cluster_role_bindings)
    generate_s = time.perf_counter() - start

    start = time.perf_counter()
    resources = []
    for position, raw in enumerate(raws):
        item = resource_from_raw(raw, Origin("generated", position))
        assert isinstance(item, Resource)
        resources.append(item)
    inventory = Inventory(resources)
    inventory_s = time.perf_counter() - start
    gc.collect()
    rss_before = rss_mb()

    start = time.perf_counter()
    index = RbacIndex.build(inventory)
    build_s = time.perf_counter() - start
    rss_after = rss_mb()
    peak = peak_rss_mb()

    namespace = f"ns-{args.namespaces // 2:05d}"
    queries: list[tuple[str, Callable[[], object]]] = [
        (
            "who-can get secrets (named) in a namespace",
            lambda: index.who_can(Request("get", "secrets", name=f"{namespace}-tls", namespace=namespace)),
        ),
        ("who-can list secrets in a namespace", lambda: index.who_can(Request("list", "secrets", namespace=namespace))),
        (
            "who-can create pods/exec in a namespace",
            lambda: index.who_can(Request("create", "pods", subresource="exec", name="web-1", namespace=namespace)),
        ),
        ("who-can * on * (cluster-wide)", lambda: index.who_can(Request("*", "*", api_group="*"))),
        (
            "who-can bind clusterroles",
            lambda: index.who_can(Request("bind", "clusterroles", api_group=RBAC_GROUP, name="admin")),
        ),
        ("who-can get /metrics", lambda: index.who_can(Request("get", non_resource_url="/metrics"))),
        (
            "can SA create pods/exec",
            lambda: index.can_subject(
                Subject.service_account(namespace, "app"),
                Request("create", "pods", subresource="exec", name="web-1", namespace=namespace),
            ),
        ),
        ("permissions of an SA", lambda: index.permissions_of(Subject.service_account(namespace, "app"))),
    ]

    counts = {
        kind: len(inventory.of_kind(kind))
        for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "Namespace")
    }
    print(f"Cluster: {', '.join(f'{n:,} {k}' for k, n in counts.items())}; {len(index.problems)} RBAC problems\n")
    print("| measure | value | target |")
    print("|---|---:|---:|")
    print(f"| generate raw objects | {generate_s:.2f} s | |")
    print(f"| Resources + Inventory | {inventory_s:.2f} s | |")
    print(f"| **RbacIndex.build** | **{build_s:.2f} s** | ≤ {BUILD_TARGET_S:.0f} s |")
    print(f"| RSS before build (objects + Inventory) | {rss_before:.0f} MB | |")
    print(f"| RSS after build | {rss_after:.0f} MB | |")
    print(f"| **peak RSS of the process** | **{peak:.0f} MB** | ≤ {RSS_TARGET_MB} MB |")
    worst = 0.0
    for label, query in queries:
        ms, result = median_ms(query, args.repeat)
        worst = max(worst, ms) if label.startswith("who-can") else worst
        size = len(result) if isinstance(result, list) else len(getattr(result, "grants", ()))
        print(f"| {label} (median, {size} grants) | {ms:.3f} ms | ≤ {QUERY_TARGET_MS:.0f} ms |")
    scan_s, scan_note = risky_access_scan(resources)
    print(f"| **RB rules: full risky-access scan** ({scan_note}) | **{scan_s:.2f} s** | ≤ {SCAN_TARGET_S:.0f} s |")
    ok = build_s <= BUILD_TARGET_S and peak <= RSS_TARGET_MB and worst <= QUERY_TARGET_MS and scan_s <= SCAN_TARGET_S
    print(f"\nTargets {'met' if ok else 'NOT met'}.")


@dataclass(frozen=True)
class _InMemory:
    """A source of objects already in memory (the generated cluster), for ``stockade.scan``."""

    resources: list[Resource]

    def collect(self, progress: object = None) -> SourceResult:
        return SourceResult(resources=list(self.resources))


def risky_access_scan(resources: list[Resource]) -> tuple[float, str]:
    """Every RB rule through the public ``stockade.scan`` (Inventory, index, exposures, review)."""
    import stockade

    gc.collect()
    start = time.perf_counter()
    result = stockade.scan([_InMemory(resources)], stockade.ScanOptions(rules=["RB"]))
    elapsed = time.perf_counter() - start
    failed = sum(1 for f in result.findings if f.status is stockade.Status.FAIL)
    passed = sum(result.passes.by_rule.values())
    return elapsed, f"{len(result.rules)} rules, {failed:,} findings, {passed:,} passes"


if __name__ == "__main__":
    main()
