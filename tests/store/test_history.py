"""mttr, trend and replay over a history built at controlled times, on both engines; and the
object-version timeline replay reads (record_objects: dedup, deletions, retention, no Secret values)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

import stockade
from stockade.model.finding import Finding, Severity
from stockade.store import FindingStore, ObjectKey
from stockade.store.history import MttrRow, TrendPoint, VersionSeen, mttr, replay, trend
from stockade.store.lifecycle import State

from ..helpers import PRIVILEGED_POD, resources_from_yaml, scan_text
from .helpers import T0, at, excepted, finding, scan
from .test_object_states import PLANTED, SECRET_YAML, every_value

MINUTE = dt.timedelta(minutes=1)

# -- mttr ---------------------------------------------------------------------------------------

A = finding("WL-001", "web")  # open 0-60, reopened 120-150: two episodes, 60 and 30 minutes
B = finding("WL-001", "api", namespace="pay")  # open 0-30, excepted 30-90, open 90-100: 40 minutes
C = finding("WL-002", "web")  # open from 0, still open
D = finding("ZZ-001", "admin", kind="ClusterRole", namespace=None)  # excepted 0-50: waived, never open
E = dataclasses.replace(finding("ZZ-002", "admin", kind="ClusterRole", namespace=None), severity=Severity.CRITICAL)


def _mttr_history(store: FindingStore) -> None:
    steps: list[tuple[int, list[Finding]]] = [
        (0, [A, B, C, excepted(D), E]),
        (30, [A, excepted(B), C, excepted(D), E]),
        (50, [A, excepted(B), C]),
        (60, [excepted(B), C]),
        (90, [B, C]),
        (100, [C]),
        (120, [A, C]),
        (150, [C]),
    ]
    for minute, seen in steps:
        store.record_scan("prod", scan(*seen), at(minute))


def _minutes(value: dt.timedelta | None) -> float | None:
    return None if value is None else value / MINUTE


def _table(rows: list[MttrRow]) -> dict[str, tuple[Any, ...]]:
    return {
        r.group: (r.resolved, _minutes(r.mean), _minutes(r.median), r.still_open, _minutes(r.oldest_open)) for r in rows
    }


def test_mttr_by_rule_counts_episodes_and_leaves_excepted_time_out(store: FindingStore) -> None:
    _mttr_history(store)
    rows = mttr(store, "prod", by="rule", now=at(200))
    assert _table(rows) == {
        "WL-001": (3, (60 + 30 + 40) / 3, 40.0, 0, None),
        "WL-002": (0, None, None, 1, 200.0),
        "ZZ-002": (1, 50.0, 50.0, 0, None),
    }  # ZZ-001 was excepted throughout: waived, not fixed, so not counted
    assert [r.median_open for r in rows] == [None, 200 * MINUTE, None]


def test_mttr_by_area_namespace_and_severity(store: FindingStore) -> None:
    _mttr_history(store)
    assert _table(mttr(store, "prod", by="area", now=at(200))) == {
        "container-privileges": (3, (60 + 30 + 40) / 3, 40.0, 1, 200.0),
        "unknown": (1, 50.0, 50.0, 0, None),  # ZZ-002 is no rule of the registry
    }
    assert _table(mttr(store, "prod", by="namespace", now=at(200))) == {
        "(cluster-scoped)": (1, 50.0, 50.0, 0, None),
        "pay": (1, 40.0, 40.0, 0, None),
        "shop": (2, 45.0, 45.0, 1, 200.0),
    }
    rows = mttr(store, "prod", by="severity", now=at(200))
    assert [r.group for r in rows] == ["critical", "high"]  # worst first
    assert _table(rows)["high"] == (3, (60 + 30 + 40) / 3, 40.0, 1, 200.0)


def test_mttr_since_counts_the_episodes_resolved_in_the_window(store: FindingStore) -> None:
    _mttr_history(store)
    assert _table(mttr(store, "prod", since=at(100), now=at(200))) == {
        "WL-001": (2, 35.0, 35.0, 0, None),  # B (40, resolved at 100) and A's second (30, at 150)
        "WL-002": (0, None, None, 1, 200.0),  # still open: counted whatever the window
    }
    assert mttr(store, "elsewhere", now=at(200)) == []


# -- trend --------------------------------------------------------------------------------------

DAY = 24 * 60
CRITICAL_B = dataclasses.replace(B, severity=Severity.CRITICAL)


def _trend_history(store: FindingStore) -> None:
    store.record_scan("prod", scan(A, CRITICAL_B), at(0))  # 2025-03-01 12:00
    store.record_scan("prod", scan(CRITICAL_B, C), at(DAY))  # A resolved, C opened
    store.record_scan("prod", scan(excepted(CRITICAL_B), C), at(2 * DAY))
    store.record_scan("prod", scan(), at(3 * DAY))  # everything resolved


def _points(points: list[TrendPoint]) -> list[tuple[Any, ...]]:
    return [
        (p.start.date().isoformat(), p.open["critical"], p.open["high"], p.excepted, p.opened, p.resolved)
        for p in points
    ]


def test_trend_by_day(store: FindingStore) -> None:
    _trend_history(store)
    points = trend(store, "prod", since=at(0), until=at(3 * DAY))
    assert _points(points) == [
        ("2025-03-01", 1, 1, 0, 2, 0),
        ("2025-03-02", 1, 1, 0, 1, 1),
        ("2025-03-03", 0, 1, 1, 0, 0),
        ("2025-03-04", 0, 0, 0, 0, 2),
    ]
    assert points[0].start == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert points[0].end == points[1].start
    assert list(points[0].open) == ["critical", "high", "medium", "low", "info"]
    assert [p.open_total for p in points] == [2, 2, 1, 0]
    # As open_findings(at=) replays it, at each bucket's end.
    for point in points[:3]:
        by_severity = [f.severity.value for f in store.open_findings("prod", point.end - dt.timedelta(microseconds=1))]
        assert sorted(by_severity) == sorted(s for s, n in point.open.items() for _ in range(n))


def test_trend_by_week_starts_on_monday(store: FindingStore) -> None:
    _trend_history(store)  # 2025-03-01 is a Saturday
    points = trend(store, "prod", since=at(0), until=at(3 * DAY), bucket="week")
    assert _points(points) == [("2025-02-24", 1, 1, 0, 3, 1), ("2025-03-03", 0, 0, 0, 0, 2)]
    assert points[1].end == dt.datetime(2025, 3, 10, tzinfo=dt.UTC)


def test_trend_of_a_window_after_the_history_carries_its_state(store: FindingStore) -> None:
    store.record_scan("prod", scan(A), at(0))
    [point] = trend(store, "prod", since=at(5 * DAY), until=at(5 * DAY))
    assert (point.open["high"], point.opened, point.resolved) == (1, 0, 0)
    with pytest.raises(ValueError, match="before since"):
        trend(store, "prod", since=at(5), until=at(0))


# -- replay -------------------------------------------------------------------------------------

WEB = ObjectKey("Pod", "shop", "web")


def pod(version: str, *, privileged: bool) -> dict[str, Any]:
    [resource] = resources_from_yaml(
        PRIVILEGED_POD.replace("privileged: true", f"privileged: {str(privileged).lower()}")
    )
    raw = dict(resource.raw)
    raw["metadata"] = {**raw["metadata"], "resourceVersion": version}
    return raw


def rules(*ids: str) -> list[Any]:
    return stockade.select(stockade.ScanOptions(rules=ids))


def test_replay_finds_what_an_old_version_had_before_it_was_fixed(store: FindingStore) -> None:
    assert store.record_objects("prod", [(WEB, pod("1", privileged=True))], at(0)) == 1
    assert store.record_objects("prod", [(WEB, pod("1", privileged=True))], at(5)) == 0  # unchanged
    assert store.record_objects("prod", [(WEB, pod("2", privileged=False))], at(10)) == 1
    result = replay(store, "prod", rules("WL-001"), since=at(-5), until=at(20))
    [found] = result.findings
    assert (found.rule_id, found.resource.display, found.severity, found.state) == (
        "WL-001",
        "Pod/shop/web",
        Severity.CRITICAL,
        State.OPEN,
    )
    assert (found.first_seen, found.last_seen, found.fixed_at) == (at(0), at(0), at(10))
    assert found.first_version == found.last_version == VersionSeen(at(0), "1")
    assert (result.versions_in_window, result.versions_examined, result.objects, result.evaluations) == (2, 2, 1, 2)
    assert result.rules == ("WL-001",)
    assert result.note == "2 object versions in the window; objects with no stored state are not seen"

    # A window that opens after the version was stored still sees it: it was current then.
    later = replay(store, "prod", rules("WL-001"), since=at(5), until=at(20))
    [carried] = later.findings
    assert (carried.first_seen, carried.fixed_at, carried.first_version) == (at(5), at(10), VersionSeen(at(0), "1"))
    assert (later.versions_in_window, later.versions_examined) == (1, 2)
    # A window that closes before the fix: it still fires at the end.
    [early] = replay(store, "prod", rules("WL-001"), since=at(-5), until=at(9)).findings
    assert early.fixed_at is None
    assert replay(store, "prod", rules("WL-001"), since=at(11), until=at(20)).findings == []


def test_replay_forgets_a_deleted_object(store: FindingStore) -> None:
    other = ObjectKey("Pod", "shop", "other")
    other_pod = {**pod("7", privileged=True), "metadata": {"name": "other", "namespace": "shop"}}
    assert store.record_objects("prod", [(WEB, pod("1", privileged=True)), (other, other_pod)], at(0)) == 2
    assert store.record_objects("prod", [(WEB, None)], at(10)) == 1
    assert store.record_objects("prod", [(WEB, None)], at(12)) == 0  # already deleted
    assert store.record_objects("prod", [(ObjectKey("Pod", "shop", "never"), None)], at(12)) == 0
    result = replay(store, "prod", rules("WL-001"), since=at(0), until=at(30))
    by_object = {f.resource.name: (f.first_seen, f.fixed_at) for f in result.findings}
    assert by_object == {"web": (at(0), at(10)), "other": (at(0), None)}
    # Recreated later: seen again from then on.
    assert store.record_objects("prod", [(WEB, pod("9", privileged=True))], at(20)) == 1
    result = replay(store, "prod", rules("WL-001"), since=at(0), until=at(30))
    [web] = [f for f in result.findings if f.resource.name == "web"]
    assert (web.first_seen, web.last_seen, web.fixed_at, web.last_version) == (
        at(0),
        at(20),
        None,
        VersionSeen(at(20), "9"),
    )


ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: payments, resourceVersion: "5"}
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list, watch]
"""
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reporting-reads-secrets, namespace: payments, resourceVersion: "3"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
  - {kind: Group, name: reporting, apiGroup: rbac.authorization.k8s.io}
"""


def test_replay_runs_inventory_rules_over_the_rbac_objects_of_each_moment(store: FindingStore) -> None:
    [binding] = resources_from_yaml(BINDING)
    [role] = resources_from_yaml(ROLE)
    binding_key = ObjectKey("RoleBinding", "payments", "reporting-reads-secrets")
    store.record_objects("prod", [(binding_key, binding.raw)], at(0))  # bound to a role not there yet
    store.record_objects("prod", [(ObjectKey("Role", "payments", "secret-reader"), role.raw)], at(10))
    store.record_objects("prod", [(binding_key, None)], at(20))
    result = replay(store, "prod", rules("RB-003", "RB-016"), since=at(0), until=at(30))
    found = {f.rule_id: f for f in result.findings}
    assert set(found) == {"RB-003", "RB-016"}
    missing = found["RB-016"]  # binding to a missing role: fixed when the role appeared
    assert (missing.resource.display, missing.first_seen, missing.fixed_at) == (
        "RoleBinding/payments/reporting-reads-secrets",
        at(0),
        at(10),
    )
    assert missing.first_version == VersionSeen(at(0), "3")
    reads = found["RB-003"]  # the role read secrets for the group only while the binding stood
    assert (reads.resource.display, reads.severity, reads.first_seen, reads.fixed_at) == (
        "Role/payments/secret-reader",
        Severity.MEDIUM,  # its worst sighting; in a namespace that is medium
        at(10),
        None,  # a latent grant (low) once the binding is gone: the same finding, still there
    )
    assert "Group/reporting" in reads.message
    assert (result.versions_in_window, result.objects, result.evaluations) == (2, 2, 3)


def test_replay_of_a_history_fed_by_scans_alone_uses_the_states_behind_transitions(store: FindingStore) -> None:
    store.record_scan("prod", scan_text(PRIVILEGED_POD, ["WL-001"]), at(0))
    store.record_scan(
        "prod", scan_text(PRIVILEGED_POD.replace("privileged: true", "privileged: false"), ["WL-001"]), at(10)
    )
    fixed = PRIVILEGED_POD.replace("privileged: true", "privileged: false")
    assert store.record_scan("prod", scan_text(fixed, ["WL-001", "WL-002"]), at(20)).opened == 1
    result = replay(store, "prod", rules("privileged-container"), since=at(-60), until=at(60))
    [found] = result.findings
    assert (found.resource.display, found.first_seen, found.fixed_at) == ("Pod/shop/web", at(0), at(10))
    # The WL-002 transition at 20 points at the fixed state again: no new version, no new moment.
    assert (result.versions_in_window, result.evaluations) == (2, 2)
    # Recorded as well (the watcher does both): one version, not two.
    [resource] = resources_from_yaml(PRIVILEGED_POD)
    assert store.record_objects("prod", [(WEB, resource.raw)], at(0)) == 1
    assert replay(store, "prod", rules("WL-001"), since=at(-60), until=at(60)).versions_in_window == 2


def test_replay_with_nothing_stored(store: FindingStore) -> None:
    result = replay(store, "prod", rules("WL-001"), since=at(0), until=at(10))
    assert (result.findings, result.versions_in_window, result.evaluations) == ([], 0, 0)


# -- recorded object versions: secrets and retention --------------------------------------------


def test_a_planted_secret_value_recorded_as_an_object_version_is_in_no_row(store: FindingStore) -> None:
    [secret] = resources_from_yaml(SECRET_YAML)
    assert PLANTED in str(secret.raw)
    assert store.record_objects("prod", [(ObjectKey("Secret", "default", "db"), secret.raw)], at(0)) == 1
    values = every_value(store)
    assert any("password" in v for v in values)
    encoded = base64.b64encode(PLANTED.encode()).decode()
    assert not [v for v in values if PLANTED in v or encoded in v]


def _count(store: FindingStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)


def test_retention_prunes_recorded_versions_and_deletion_markers(store_url: sa.URL) -> None:
    url = store_url.render_as_string(hide_password=False)
    with FindingStore.open(url, retention=dt.timedelta(hours=1)) as store:
        store.record_objects("prod", [(WEB, pod("1", privileged=True))], at(0))
        store.record_objects("prod", [(WEB, pod("2", privileged=False))], at(30))
        store.record_objects("prod", [(WEB, None)], at(45))
        assert (_count(store, "object_versions"), _count(store, "object_states")) == (3, 2)
        # At 120, versions last used before 60 go: the first state, and the second with its deletion marker.
        store.record_objects("prod", [(WEB, pod("3", privileged=True))], at(120))
        assert (_count(store, "object_versions"), _count(store, "object_states")) == (1, 1)
        [found] = replay(store, "prod", rules("WL-001"), since=at(0), until=at(130)).findings
        assert (found.first_seen, found.first_version) == (at(120), VersionSeen(at(120), "3"))
    with FindingStore.open(url) as store:
        assert store.prune(at(200)) == 1
        assert _count(store, "object_versions") == 0


def test_recording_objects_leaves_the_last_scan_time_alone(store: FindingStore) -> None:
    store.record_objects("prod", [(WEB, pod("1", privileged=True))], at(60))
    # A scan at an earlier time than the recorded objects is still recorded.
    assert not store.record_scan("prod", scan(A), at(30)).ignored
    assert at(30) > T0
