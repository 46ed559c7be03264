"""Writes are batched: a scan of 20,000 findings records in seconds, and again in less."""

from __future__ import annotations

import time
from pathlib import Path

from stockade.store import FindingStore

from .helpers import at, finding, scan

COUNT = 20_000


def test_twenty_thousand_findings_on_sqlite(tmp_path: Path) -> None:
    result = scan(*(finding(f"WL-{i % 20:03d}", f"app-{i // 20}") for i in range(COUNT)))
    with FindingStore.open(str(tmp_path / "h.db")) as store:
        start = time.perf_counter()
        assert store.record_scan("prod", result, at(0)).opened == COUNT
        first = time.perf_counter() - start
        start = time.perf_counter()
        assert store.record_scan("prod", result, at(1)).transitions == 0
        again = time.perf_counter() - start
        assert store.record_scan("prod", scan(), at(2)).resolved == COUNT
    # Generous for a loaded 2-core CI machine; row-by-row writes take far longer.
    assert first < 15, first
    assert again < 10, again
