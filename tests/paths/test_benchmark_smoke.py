"""A short run of the attack-path benchmark and its cluster generator (figures: benchmarks/RESULTS.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from benchmarks.gen_paths_cluster import generate

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_paths.py"


def test_the_generator_is_deterministic_and_grows_with_pods() -> None:
    small, again, large = generate(600), generate(600), generate(1200)
    assert small == again
    counts, bigger = Counter(o["kind"] for o in small), Counter(o["kind"] for o in large)
    assert 0.85 * 600 <= counts["Pod"] <= 600 and bigger["Pod"] > 1.8 * counts["Pod"]
    owners = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in small}
    for pod in (o for o in small if o["kind"] == "Pod"):
        for ref in pod["metadata"].get("ownerReferences", []):
            assert (ref["kind"], pod["metadata"]["namespace"], ref["name"]) in owners


def test_the_benchmark_runs_and_finds_paths() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--pods", "600", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [pairs] = re.findall(r"^\| 600 \| 4 \| [\d,]+ \| [\d,]+ \| [\d,]+ \| ([\d,]+) \|", done.stdout, re.MULTILINE)
    assert int(pairs.replace(",", "")) > 0, done.stdout
