"""Reachability: `stockade network reach FILE -f json` (the whole matrix) end to end, and its stages.

    python benchmarks/bench_network.py                  # 2,000 pods, 200 namespaces, 1,000 policies; and 2x, 4x
    python benchmarks/bench_network.py --quick          # the budgeted size only (the smoke test runs a small one)

The cluster comes from benchmarks/gen_network_cluster.py. The command runs in a child process (wall
time and peak RSS from ``wait4``): reading the YAML, indexing, and the verdict for every pair of
workloads on every declared port, written as JSON. A second child times the stages. Budget: the
2,000-pod matrix in ≤ 5 s. Exit status 1 when it is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.gen_network_cluster import generate  # noqa: E402

BUDGET = (2_000, 5.0)
STAGES = """
import json, sys, time
import stockade
from stockade.network import Reachability
from stockade.report.network import full_matrix
t0 = time.perf_counter()
result = stockade.scan(stockade.FileSource([sys.argv[1]]), stockade.ScanOptions(run_rules=False))
t1 = time.perf_counter()
reach = Reachability(result.inventory)
t2 = time.perf_counter()
rows = full_matrix(reach, None)
t3 = time.perf_counter()
pairs = sum(mask.bit_count() for _, mask in rows)
print(json.dumps({"read": t1 - t0, "index": t2 - t1, "matrix": t3 - t2, "pairs": pairs,
    "endpoints": len(reach.endpoints), "policies": len(reach.policies)}))
"""


def run_child(cmd: list[str]) -> tuple[float, float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out


def measure(pods: int, namespaces: int, policies: int, work: Path, open_: bool = False) -> dict[str, float]:
    path = work / f"cluster-{pods}-{open_}.yaml"
    path.write_text(yaml.safe_dump_all(generate(namespaces, pods, policies, default_deny=not open_)))
    cmd = [sys.executable, "-m", "stockade.cli.main", "network", "reach", str(path), "-f", "json", "--no-progress"]
    best = None
    size = 0
    for _ in range(3):
        wall, rss, code, out = run_child(cmd)
        if code != 0:
            raise SystemExit(f"exit {code}")
        size = len(out)
        json.loads(out)
        best = (wall, rss) if best is None or wall < best[0] else best
    assert best is not None
    _, _, _, stages = run_child([sys.executable, "-c", STAGES, str(path)])
    return {"wall": best[0], "rss": best[1], "json_mb": size / 1e6, **json.loads(stages)}


SIZES = [(2_000, 200, 1_000, True)]  # pods, namespaces, policies, default deny
MORE = [(2_000, 200, 600, False), (4_000, 400, 2_000, True), (8_000, 800, 4_000, True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the budgeted size only")
    parser.add_argument("--pods", type=int, help="one size (namespaces pods/10, policies pods/2)")
    args = parser.parse_args()
    sizes = [(args.pods, max(1, args.pods // 10), args.pods // 2, True)] if args.pods else list(SIZES)
    if not args.quick and not args.pods:
        sizes += MORE
    print(
        "| pods | namespaces | policies | default deny | wall s (best of 3) | peak MB | JSON MB | read s | index s "
        "| matrix s | pairs allowed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    missed = False
    with tempfile.TemporaryDirectory() as tmp:
        for pods, namespaces, policies, deny in sizes:
            row = measure(pods, namespaces, policies, Path(tmp), open_=not deny)
            print(
                f"| {pods:,} | {namespaces:,} | {policies:,} | {'yes' if deny else 'no'} | **{row['wall']:.2f}** | "
                f"{row['rss']:.0f} | {row['json_mb']:.1f} | {row['read']:.2f} | {row['index']:.2f} | "
                f"{row['matrix']:.2f} | {int(row['pairs']):,} |"
            )
            if pods == BUDGET[0] and deny and row["wall"] > BUDGET[1]:
                missed = True
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
