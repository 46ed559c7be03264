"""History store throughput: record a scan of N findings, record it again, then resolve them all.

    python benchmarks/bench_store.py                          # 20,000 findings, a temporary SQLite file
    python benchmarks/bench_store.py --findings 50000 --store postgresql://postgres@127.0.0.1/test

Findings are made by hand (no scan runs), so the figures are the store's alone. A PostgreSQL store
gets a schema of its own, dropped at the end. Figures go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from stockade.engine.evaluate import fingerprint
from stockade.model.finding import Finding, Location, ResourceRef, Severity, Status
from stockade.model.result import ScanResult
from stockade.store import FindingStore, store_url

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def findings(count: int) -> list[Finding]:
    out = []
    for i in range(count):
        ref = ResourceRef("apps/v1", "Deployment", f"ns-{i % 50}", f"app-{i // 20}")
        rule = f"WL-{i % 20:03d}"
        out.append(
            Finding(
                rule,
                Status.FAIL,
                Severity.HIGH,
                ref,
                "privileged",
                Location("cluster"),
                fingerprint(rule, ref, None, ""),
            )
        )
    return out


def timed(label: str, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    action()
    print(f"| {label} | {time.perf_counter() - start:.2f} |")


def run(url: str, count: int) -> None:
    result = ScanResult(rules=[], findings=findings(count))
    with FindingStore.open(url) as store:
        print(f"| {count:,} findings on {store.engine.dialect.name} | seconds |\n|---|---|")
        timed("first record (all opened)", lambda: store.record_scan("bench", result, T0))
        timed("same scan again (no change)", lambda: store.record_scan("bench", result, T0 + dt.timedelta(minutes=1)))
        empty = ScanResult(rules=[])
        timed("empty scan (all resolved)", lambda: store.record_scan("bench", empty, T0 + dt.timedelta(minutes=2)))
        timed("open_findings", lambda: store.open_findings("bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--store", help="a store URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.store is None:
        with tempfile.TemporaryDirectory() as directory:
            run(str(Path(directory) / "history.db"), args.findings)
        return
    url = store_url(args.store)
    schema = f"stockade_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        run(url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False), args.findings)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


if __name__ == "__main__":
    main()
