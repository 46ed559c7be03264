"""Cluster views in the store: the latest wins, retention keeps each cluster's latest, and
`stockade scan --store` records one beside its findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import URL, func, select

from stockade.cli.main import main
from stockade.store import FindingStore
from stockade.store.schema import cluster_views
from tests.helpers import PRIVILEGED_POD

T0 = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def test_the_latest_view_is_the_one_recorded_last(store: FindingStore) -> None:
    assert store.latest_view("prod") is None
    store.record_view("prod", {"n": 1, "text": "\u202e<b>"}, T0)
    store.record_view("prod", {"n": 2}, T0 + dt.timedelta(hours=1))
    store.record_view("other", {"n": 9}, T0 + dt.timedelta(hours=2))
    assert store.latest_view("prod") == (T0 + dt.timedelta(hours=1), {"n": 2})
    assert store.latest_view("other") == (T0 + dt.timedelta(hours=2), {"n": 9})
    with pytest.raises(ValueError, match="aware"):
        store.record_view("prod", {}, T0.replace(tzinfo=None))


def test_retention_drops_old_views_but_keeps_each_clusters_latest(store_url: URL) -> None:
    with FindingStore.open(store_url.render_as_string(hide_password=False), retention=dt.timedelta(days=7)) as store:
        store.record_view("quiet", {"n": 0}, T0)
        for day in range(20):
            store.record_view("busy", {"n": day}, T0 + dt.timedelta(days=day))
        with store.engine.connect() as conn:
            kept = conn.execute(select(func.count()).select_from(cluster_views)).scalar_one()
        # busy: days 12..19 are within a week of day 19 (8 views); quiet: its only view, however old.
        assert kept == 8 + 1
        assert store.latest_view("quiet") == (T0, {"n": 0})


def test_scan_store_records_a_view_with_the_scorecard_and_rbac(tmp_path: Path) -> None:
    manifest = tmp_path / "objects.yaml"
    role = """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
"""
    manifest.write_text(PRIVILEGED_POD + role)
    store = tmp_path / "history.db"
    assert main(["scan", str(manifest), "--no-progress", "--store", str(store), "--store-cluster", "dev"]) == 1
    with FindingStore.open(str(store)) as opened:
        latest = opened.latest_view("dev")
    assert latest is not None
    view = latest[1]
    assert view["live"] is False
    areas = {a["area"]: a for a in view["scorecard"]["areas"]}
    assert areas["container-privileges"]["summary"] == "not crawling"
    assert view["rbac"] == [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "reader"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
        }
    ]
    assert view["paths"] is not None and "remediation" in view["paths"]


def test_the_stage_history_is_oldest_first_and_skips_views_without_stages(store: FindingStore) -> None:
    store.record_view("prod", {}, T0, {"rbac": "crawl"})
    store.record_view("prod", {}, T0 + dt.timedelta(days=1))  # no stages: not in the history
    store.record_view("prod", {}, T0 + dt.timedelta(days=2), {"rbac": "walk", "secrets": "not crawling"})
    store.record_view("other", {}, T0, {"rbac": "run"})
    assert store.stage_history("prod") == [
        (T0, {"rbac": "crawl"}),
        (T0 + dt.timedelta(days=2), {"rbac": "walk", "secrets": "not crawling"}),
    ]
    assert store.stage_history("prod", limit=1) == [
        (T0 + dt.timedelta(days=2), {"rbac": "walk", "secrets": "not crawling"})
    ]
    assert store.stage_history("nowhere") == []
