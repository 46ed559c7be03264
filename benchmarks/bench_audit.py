"""Audit-log detection throughput: `stockade audit scan` over a generated log on one core.

    python benchmarks/bench_audit.py                    # 1,000,000 events
    python benchmarks/bench_audit.py --events 100000    # quicker

The log comes from benchmarks/gen_audit_log.py (benign traffic with planted incidents, ~560 bytes
per event). The command runs as a child process pinned to one core (`os.sched_setaffinity`), reading
the file, parsing every line and running every detection, output as JSON to /dev/null; the rate is
events over wall time (best of 3). Budget: 50,000 events/s. Falco's k8saudit plugin, the reference
point, is not installable here (Go binaries, no PyPI or Debian package for the plugin), so it is
not measured side by side.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.gen_audit_log import GITOPS, generate  # noqa: E402

# The GitOps namespaces of the generated log, so that AD-013 is judged on every event too.
GITOPS_OPTIONS = [
    *(arg for namespace in GITOPS.managed for arg in ("--gitops-namespace", namespace)),
    *(arg for user in sorted(GITOPS.operators) for arg in ("--gitops-operator", user)),
]

BUDGET = 50_000
COMMAND = [sys.executable, "-c", "import sys; from stockade.cli.main import main; sys.exit(main())"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "audit.log"
        count = 0
        with log.open("wb") as out:
            for _, event in generate(args.events):
                out.write(orjson.dumps(event) + b"\n")
                count += 1
        size = log.stat().st_size
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            done = subprocess.run(
                [*COMMAND, "audit", "scan", str(log), "-f", "json", "-o", os.devnull, *GITOPS_OPTIONS],
                preexec_fn=lambda: os.sched_setaffinity(0, {0}),
                check=False,
            )
            best = min(best, time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"stockade audit scan exited {done.returncode}")
    rate = count / best
    print("| events | log size | wall s (best of 3, one core) | events/s | budget |\n|---|---|---|---|---|")
    print(f"| {count:,} | {size / 1e6:.0f} MB | {best:.2f} | **{rate:,.0f}** | {BUDGET:,}/s |")
    return 0 if rate >= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
