"""A short run of the node benchmark (figures: benchmarks/RESULTS.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_node.py"


def test_the_node_benchmark_runs_and_misses_no_event() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick"], capture_output=True, text=True, timeout=180, check=False
    )
    assert "| `node scan`" in done.stdout, done.stdout + done.stderr
    [reported, changes] = re.findall(r"reported \| ([\d,]+) of ([\d,]+)", done.stdout)[0]
    assert reported == changes == "1,000", done.stdout
