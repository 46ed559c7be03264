"""Findings move open → resolved → reopened and open ↔ excepted; every move is one transition."""

from __future__ import annotations

import dataclasses

import pytest

from stockade.model.finding import Severity, Status
from stockade.store import Change, FindingStore, ObjectKey, State

from .helpers import at, excepted, finding, scan


def changes(store: FindingStore, cluster: str = "prod") -> list[tuple[str, str, State | None, State]]:
    return [(t.rule_id, t.change.value, t.from_state, t.to_state) for t in store.transitions(cluster)]


def fingerprints(store: FindingStore, cluster: str = "prod", **kwargs: object) -> set[str]:
    return {f.fingerprint for f in store.open_findings(cluster, **kwargs)}  # type: ignore[arg-type]


def test_open_resolved_reopened(store: FindingStore) -> None:
    a = finding("WL-001")
    summary = store.record_scan("prod", scan(a), at(0))
    assert (summary.opened, summary.transitions) == (1, 1)
    assert store.record_scan("prod", scan(), at(10)).resolved == 1
    assert fingerprints(store) == set()
    assert store.record_scan("prod", scan(a), at(20)).reopened == 1
    assert changes(store) == [
        ("WL-001", "opened", None, State.OPEN),
        ("WL-001", "resolved", State.OPEN, State.RESOLVED),
        ("WL-001", "reopened", State.RESOLVED, State.OPEN),
    ]
    [stored] = store.open_findings("prod")
    assert (stored.first_seen, stored.last_seen, stored.state) == (at(0), at(20), State.OPEN)
    assert stored.resource.display == "Deployment/shop/web"
    assert (stored.container, stored.path, stored.severity) == ("app", "spec.template", Severity.HIGH)


def test_open_excepted_open_keeps_the_waiver(store: FindingStore) -> None:
    a = finding("WL-001")
    store.record_scan("prod", scan(a), at(0))
    assert store.record_scan("prod", scan(excepted(a)), at(5)).excepted == 1
    assert fingerprints(store) == set()
    assert fingerprints(store, include_excepted=True) == {a.fingerprint}
    assert store.record_scan("prod", scan(a), at(9)).opened == 1
    moves = store.transitions("prod")
    assert [t.change for t in moves] == [Change.OPENED, Change.EXCEPTED, Change.OPENED]
    waiver = moves[1].waiver
    assert waiver is not None
    assert (waiver.source, waiver.reason, waiver.expires) == ("exceptions.yaml#1", "accepted risk", "2025-12-31")
    assert moves[2].waiver is None


def test_a_finding_first_seen_excepted_starts_excepted(store: FindingStore) -> None:
    store.record_scan("prod", scan(excepted(finding())), at(0))
    assert changes(store) == [("WL-001", "excepted", None, State.EXCEPTED)]


def test_recording_the_same_scan_twice_adds_nothing(store: FindingStore) -> None:
    result = scan(finding("WL-001"), finding("WL-002"), excepted(finding("WL-003")))
    first = store.record_scan("prod", result, at(0))
    assert first.transitions == 3
    again = store.record_scan("prod", result, at(0))
    assert again.transitions == 0
    assert len(store.transitions("prod")) == 3
    later = store.record_scan("prod", result, at(30))
    assert later.transitions == 0
    assert {f.last_seen for f in store.open_findings("prod", include_excepted=True)} == {at(30)}


def test_a_late_older_scan_is_ignored(store: FindingStore) -> None:
    store.record_scan("prod", scan(finding()), at(10))
    late = store.record_scan("prod", scan(), at(5))
    assert late.ignored
    assert late.transitions == 0
    assert len(store.open_findings("prod")) == 1


def test_two_clusters_in_one_database_do_not_mix(store: FindingStore) -> None:
    a, b = finding("WL-001"), finding("WL-002")
    store.record_scan("eu", scan(a), at(0))
    store.record_scan("us", scan(a, b), at(0))
    store.record_scan("eu", scan(), at(5))  # resolves eu's only, not us's
    assert fingerprints(store, "eu") == set()
    assert fingerprints(store, "us") == {a.fingerprint, b.fingerprint}
    assert [t.change for t in store.transitions("eu")] == [Change.OPENED, Change.RESOLVED]
    assert [t.change for t in store.transitions("us")] == [Change.OPENED, Change.OPENED]
    assert store.clusters() == ["eu", "us"]


def test_an_incomplete_scan_resolves_nothing(store: FindingStore) -> None:
    store.record_scan("prod", scan(finding("WL-001")), at(0))
    summary = store.record_scan("prod", scan(finding("WL-002"), incomplete=True), at(5))
    assert (summary.opened, summary.resolved) == (1, 0)
    assert len(store.open_findings("prod")) == 2


def test_a_partial_scan_resolves_only_what_it_looked_at(store: FindingStore) -> None:
    web, api = finding(name="web"), finding(name="api")
    store.record_scan("prod", scan(web, api), at(0))
    summary = store.record_scan("prod", scan(), at(5), scope=[ObjectKey("Deployment", "shop", "web")])
    assert summary.resolved == 1
    assert fingerprints(store) == {api.fingerprint}


def test_errors_passes_and_skips_are_not_findings(store: FindingStore) -> None:
    for status in (Status.PASS, Status.SKIPPED, Status.ERROR):
        store.record_scan("prod", scan(finding(status=status)), at(0))
    assert store.transitions("prod") == []


def test_a_changed_message_is_refreshed_without_a_transition(store: FindingStore) -> None:
    a = finding()
    store.record_scan("prod", scan(a), at(0))
    store.record_scan("prod", scan(dataclasses.replace(a, message="now worse", severity=Severity.CRITICAL)), at(1))
    [stored] = store.open_findings("prod")
    assert (stored.message, stored.severity) == ("now worse", Severity.CRITICAL)
    assert len(store.transitions("prod")) == 1


def test_open_findings_replays_the_past(store: FindingStore) -> None:
    a, b = finding("WL-001"), finding("WL-002")
    store.record_scan("prod", scan(a), at(0))
    store.record_scan("prod", scan(a, b), at(10))
    store.record_scan("prod", scan(excepted(b)), at(20))
    assert fingerprints(store, at=at(-1)) == set()
    assert fingerprints(store, at=at(5)) == {a.fingerprint}
    assert fingerprints(store, at=at(10)) == {a.fingerprint, b.fingerprint}
    assert fingerprints(store, at=at(25)) == set()
    assert fingerprints(store, at=at(25), include_excepted=True) == {b.fingerprint}
    assert sorted(t.rule_id for t in store.transitions("prod", since=at(20))) == ["WL-001", "WL-002"]


def test_naive_datetimes_are_refused(store: FindingStore) -> None:
    with pytest.raises(ValueError, match="aware"):
        store.record_scan("prod", scan(), at(0).replace(tzinfo=None))
