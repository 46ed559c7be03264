"""The dashboard's server time over a large history: 100,000 findings and 1,000,000 transitions in
PostgreSQL (benchmarks/gen_dashboard_store.py draws them), three clusters, one cluster view each.

    python benchmarks/bench_dashboard.py                                       # PostgreSQL on 127.0.0.1
    python benchmarks/bench_dashboard.py --store postgresql://postgres@db/test --requests 100
    python benchmarks/bench_dashboard.py --findings 2000 --transitions 20000 --requests 5   # smoke

The dashboard runs in this process on loopback; each page is asked ``--requests`` times and the
server time is read from its Server-Timing header (the time from the request reaching the app to
its response starting; the client's own time is not counted). The first overview, which folds
every transition of the cluster into the trend cache, is reported apart. Budgets (issue 19):
overview and findings pages p95 <= 300 ms, filtered findings p95 <= 500 ms. For comparison the
table gives `stockade history trend` over the same store (what the overview would cost without
its cache). The store gets a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import re
import secrets
import statistics
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.gen_dashboard_store import fill  # noqa: E402
from stockade.dashboard.server import DashboardServer  # noqa: E402
from stockade.store import FindingStore, store_url  # noqa: E402
from stockade.store.history import trend  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BUDGETS = {"page": 300.0, "filter": 500.0}
_TIMING = re.compile(r"app;dur=([\d.]+)")


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    parsed = store_url(url)
    schema = f"stockade_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def server_time(connection: http.client.HTTPConnection, path: str) -> float:
    """Milliseconds the app took for ``path`` (from Server-Timing); the page must be a 200."""
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")
    found = _TIMING.search(response.headers.get("server-timing", ""))
    if found is None:
        raise SystemExit(f"{path}: no Server-Timing header")
    return float(found.group(1))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def pages(store: FindingStore, clusters: list[str]) -> list[tuple[str, str, str]]:
    """(label, path, budget kind) for every page measured."""
    with store.engine.connect() as conn:
        some = conn.execute(sa.text("SELECT id FROM findings ORDER BY id DESC LIMIT 1")).scalar_one()
        namespace = conn.execute(
            sa.text(
                "SELECT namespace FROM findings WHERE namespace IS NOT NULL GROUP BY namespace ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    first = clusters[0]

    def q(**params: str) -> str:
        return urllib.parse.urlencode(params)

    return [
        ("overview (largest cluster)", f"/?{q(cluster=first)}", "page"),
        ("overview (another cluster)", f"/?{q(cluster=clusters[-1])}", "page"),
        ("findings, all clusters, open", "/findings", "page"),
        ("findings, one cluster", f"/findings?{q(cluster=first)}", "page"),
        ("findings, page 100 of all states", f"/findings?{q(state='any', page='100')}", "page"),
        ("filter: severity critical", f"/findings?{q(cluster=first, severity='critical')}", "filter"),
        ("filter: area rbac", f"/findings?{q(cluster=first, area='rbac')}", "filter"),
        ("filter: rule WL-001, any state", f"/findings?{q(rule='WL-001', state='any')}", "filter"),
        (
            "filter: namespace + severity high",
            f"/findings?{q(cluster=first, namespace=namespace, severity='high')}",
            "filter",
        ),
        ("filter: excepted", f"/findings?{q(state='excepted')}", "filter"),
        ("finding lifecycle", f"/findings/{some}", "page"),
        ("exceptions, all clusters", "/exceptions", "page"),
        ("rbac who-can", f"/rbac?{q(cluster=first, verb='get', resource='secrets', namespace='shop')}", "page"),
        ("attack paths", f"/paths?{q(cluster=first)}", "page"),
    ]


def run(url: str, findings: int, transitions: int, requests: int) -> bool:
    summary = fill(url, findings=findings, transitions=transitions)
    print(f"filled: {summary}\n")
    within = True
    with FindingStore.open(url) as store:
        clusters = store.clusters()
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=29)
        start = time.perf_counter()
        for cluster in clusters:
            trend(store, cluster, since=since)
        history_trend = (time.perf_counter() - start) * 1000 / len(clusters)
        with DashboardServer(store) as server:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            cold = server_time(connection, f"/?cluster={urllib.parse.quote(clusters[0])}")
            for cluster in clusters[1:]:
                server_time(connection, f"/?cluster={urllib.parse.quote(cluster)}")
            print("| page | p50 ms | p95 ms | max ms | budget p95 ms |")
            print("|---|---:|---:|---:|---:|")
            print(f"| first overview (folds the trend cache: cold) | {cold:.0f} | | | |")
            print(f"| `history trend` per cluster, 30 days (no cache) | {history_trend:.0f} | | | |")
            for label, path, kind in pages(store, clusters):
                server_time(connection, path)  # warm: the view and the RBAC index are built once
                times = [server_time(connection, path) for _ in range(requests)]
                p95 = percentile(times, 0.95)
                budget = (
                    BUDGETS[kind]
                    if not label.startswith(("finding lifecycle", "exceptions", "rbac", "attack"))
                    else None
                )
                ok = budget is None or p95 <= budget
                within &= ok
                shown = f"{budget:.0f}" if budget is not None else "—"
                print(
                    f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | {max(times):.1f} | {shown}{'' if ok else ' OVER'} |"
                )
            connection.close()
    return within


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=POSTGRES, help="a PostgreSQL URL (a scratch schema is made in it)")
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    args = parser.parse_args()
    with scratch_schema(args.store) as url:
        within = run(url, args.findings, args.transitions, args.requests)
    sys.exit(0 if within else 1)


if __name__ == "__main__":
    main()
