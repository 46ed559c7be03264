"""History store throughput: record a scan of N findings, record it again, then resolve them all;
then the history queries: mttr and trend over that history, and replay over a generated timeline
of object versions (--objects pods, each changed --versions times, a quarter of them privileged).

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

import stockade
from stockade.engine.evaluate import fingerprint
from stockade.model.finding import Finding, Location, ResourceRef, Severity, Status
from stockade.model.result import ScanResult
from stockade.store import FindingStore, ObjectKey, store_url
from stockade.store.history import mttr, replay, trend

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


def pod(index: int, version: int) -> dict[str, object]:
    privileged = (index + version) % 4 == 0
    container: dict[str, object] = {"name": "app", "image": f"registry.example.com/app:{version}"}
    if privileged:
        container["securityContext"] = {"privileged": True}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"app-{index}", "namespace": f"ns-{index % 20}", "resourceVersion": str(version)},
        "spec": {"containers": [container]},
    }


def run_queries(store: FindingStore, objects: int, versions: int) -> None:
    end = T0 + dt.timedelta(days=1)
    timed("mttr by rule", lambda: mttr(store, "bench", by="rule", now=end))
    timed("mttr by area", lambda: mttr(store, "bench", by="area", now=end))
    timed("trend, 7 days", lambda: trend(store, "bench", since=T0, until=T0 + dt.timedelta(days=6)))

    def record() -> None:
        for version in range(versions):
            at = T0 + dt.timedelta(hours=1 + version)
            keys = [(ObjectKey("Pod", f"ns-{i % 20}", f"app-{i}"), pod(i, version)) for i in range(objects)]
            store.record_objects("bench", keys, at)

    timed(f"record_objects, {objects:,} pods x {versions} versions", record)
    rules = stockade.select(stockade.ScanOptions(rules=["WL-001", "WL-002"]))
    found: list[int] = []
    timed(
        f"replay WL-001,WL-002 ({versions} moments x {objects:,} objects)",
        lambda: found.append(len(replay(store, "bench", rules, since=T0, until=end).findings)),
    )
    print(f"| replay findings | {found[0]:,} |")


def run(url: str, count: int, objects: int = 0, versions: int = 0) -> None:
    result = ScanResult(rules=[], findings=findings(count))
    with FindingStore.open(url) as store:
        print(f"| {count:,} findings on {store.engine.dialect.name} | seconds |\n|---|---|")
        timed("first record (all opened)", lambda: store.record_scan("bench", result, T0))
        timed("same scan again (no change)", lambda: store.record_scan("bench", result, T0 + dt.timedelta(minutes=1)))
        empty = ScanResult(rules=[])
        timed("empty scan (all resolved)", lambda: store.record_scan("bench", empty, T0 + dt.timedelta(minutes=2)))
        timed("open_findings", lambda: store.open_findings("bench"))
        # The watcher's path: only what changed, in batches of 100 transitions.
        made, at = result.findings, T0 + dt.timedelta(minutes=3)
        start = time.perf_counter()
        for offset in range(0, count, 100):
            at += dt.timedelta(milliseconds=10)
            store.record_changes("changes", at, made[offset : offset + 100], [], object_versions={})
        for offset in range(0, count, 100):
            at += dt.timedelta(milliseconds=10)
            gone = [f.fingerprint for f in made[offset : offset + 100]]
            store.record_changes("changes", at, [], gone, object_versions={})
        spent = time.perf_counter() - start
        print(f"| record_changes, {2 * count:,} transitions in batches of 100 | {spent:.2f} |")
        print(f"| (transitions a second through record_changes) | {2 * count / spent:,.0f}/s |")
        if objects and versions:
            run_queries(store, objects, versions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--store", help="a store URL (default: a temporary SQLite file)")
    parser.add_argument("--objects", type=int, default=1_000, help="pods in the replayed timeline (0: no queries)")
    parser.add_argument("--versions", type=int, default=10, help="versions of each pod")
    args = parser.parse_args()
    if args.store is None:
        with tempfile.TemporaryDirectory() as directory:
            run(str(Path(directory) / "history.db"), args.findings, args.objects, args.versions)
        return
    url = store_url(args.store)
    schema = f"stockade_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
        run(scoped, args.findings, args.objects, args.versions)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


if __name__ == "__main__":
    main()
