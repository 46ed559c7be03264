"""A short run of the admission benchmark in both of its modes: the benchmark itself keeps working
(the figures are measured in benchmarks/, not here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_admission.py"


@pytest.mark.parametrize("server", ["app", "command"])
def test_the_benchmark_runs_and_every_request_is_answered(server: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--server", server, "--rates", "40", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = re.findall(r"^\| 40 \| ([\d,]+) \| .* \| (\d+) \|$", done.stdout, re.MULTILINE)
    assert rows == [("40", "0")], done.stdout
