"""The overview's trend cache gives what ``stockade history trend`` gives, as the store grows and
when a transition lands out of time order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import func, insert, select

import stockade
from stockade.dashboard.trend import TrendCache
from stockade.store import FindingStore
from stockade.store.history import trend
from stockade.store.schema import findings, transitions
from tests.watch.support import privileged_pod

TODAY = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def scan_of(tmp_path: Path, privileged: dict[str, bool]) -> stockade.ScanResult:
    path = tmp_path / f"pods-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump_all([privileged_pod(n, privileged=p) for n, p in privileged.items()]))
    return stockade.scan([stockade.FileSource([str(path)])], stockade.ScanOptions(rules=["WL-001", "WL-002"]))


def compare(cache: TrendCache, store: FindingStore, since: dt.date) -> None:
    expected = trend(store, "c", since=dt.datetime.combine(since, dt.time(), dt.UTC), until=TODAY)
    got = cache.days("c", since, TODAY.date())
    assert [(p.start, p.end, dict(p.open), p.excepted, p.opened, p.resolved) for p in got] == [
        (e.start, e.end, dict(e.open), e.excepted, e.opened, e.resolved) for e in expected
    ]


def test_the_cache_follows_the_store_and_agrees_with_trend(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    with FindingStore.open(f"sqlite:///{tmp_path / 'h.db'}") as store:
        cache = TrendCache(store.engine)
        since = (TODAY - dt.timedelta(days=7)).date()
        store.record_scan("c", scan_of(manifests, {"a": True, "b": True}), TODAY - dt.timedelta(days=5))
        compare(cache, store, since)
        store.record_scan("c", scan_of(manifests, {"a": False, "b": True}), TODAY - dt.timedelta(days=3))
        store.record_scan(
            "c", scan_of(manifests, {"a": True, "b": True, "c": True}), TODAY - dt.timedelta(days=3, hours=-2)
        )
        compare(cache, store, since)
        store.record_scan("c", scan_of(manifests, {"a": True, "b": False, "c": False}), TODAY)
        compare(cache, store, since)
        assert cache.days("c", TODAY.date(), TODAY.date())[0].open_total == len(store.open_findings("c")) == 4

        # A transition written out of time order (another writer, a clock that went back).
        with store.engine.begin() as conn:
            b = conn.scalar(select(findings.c.id).where(findings.c.name == "b", findings.c.rule_id == "WL-001"))
            next_id = int(conn.scalar(select(func.max(transitions.c.id))) or 0) + 1
            conn.execute(
                insert(transitions).values(
                    id=next_id,
                    cluster_id=conn.scalar(select(findings.c.cluster_id).where(findings.c.id == b)),
                    finding_id=b,
                    at=TODAY - dt.timedelta(days=4),
                    change="resolved",
                    from_state="open",
                    to_state="resolved",
                )
            )
        compare(cache, store, since)


def test_the_cache_says_nothing_for_an_unknown_cluster(tmp_path: Path) -> None:
    with FindingStore.open(f"sqlite:///{tmp_path / 'h.db'}") as store:
        points = TrendCache(store.engine).days("nowhere", TODAY.date() - dt.timedelta(days=2), TODAY.date())
        assert [p.open_total for p in points] == [0, 0, 0]
