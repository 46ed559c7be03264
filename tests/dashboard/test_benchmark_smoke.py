"""A short run of the dashboard benchmark, and its store generator checked against the store's
own reading of the history (figures: benchmarks/RESULTS.md)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.gen_dashboard_store import StoreNotEmptyError, fill
from sqlalchemy import func, select

from stockade.store import FindingStore
from stockade.store.schema import findings, transitions

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dashboard.py"
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def test_the_generator_writes_exactly_what_was_asked_and_agrees_with_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    summary = fill(url, findings=400, transitions=2_500, now=NOW)
    assert summary.findings == 400 and summary.transitions == 2_500
    with FindingStore.open(url) as store:
        with store.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(transitions)) == 2_500
            last = (
                select(transitions.c.finding_id, func.max(transitions.c.id).label("id"))
                .group_by(transitions.c.finding_id)
                .subquery()
            )
            mismatched = conn.scalar(
                select(func.count())
                .select_from(findings.join(last, last.c.finding_id == findings.c.id))
                .join(transitions, transitions.c.id == last.c.id)
                .where(transitions.c.to_state != findings.c.state)
            )
        assert mismatched == 0
        opened = sum(len(store.open_findings(c)) for c in store.clusters())
        assert opened == summary.states["open"] > 0
        assert all(store.latest_view(c) is not None for c in store.clusters())
    with pytest.raises(StoreNotEmptyError):
        fill(url, findings=10, transitions=10, now=NOW)


def test_the_benchmark_runs_and_keeps_its_budgets() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--findings", "600", "--transitions", "4000", "--requests", "3"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    measured = re.findall(r"^\| (filter: [^|]+|overview [^|]+) \| ([\d.]+) \|", done.stdout, re.MULTILINE)
    assert len(measured) == 7, done.stdout
