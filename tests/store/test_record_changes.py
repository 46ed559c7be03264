"""The watcher's write path: only what changed is recorded, the transitions come back, and the
result equals recording whole scans. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

from stockade.model.finding import Status
from stockade.store import Change, FindingStore, ObjectKey, State
from tests.store.helpers import at, excepted, finding, scan

WEB = finding("WL-001", "web")
API = finding("WL-001", "api")
DB = finding("WL-002", "db")
WEB_KEY = ObjectKey("Deployment", "shop", "web")
OBJECTS = {
    WEB_KEY: {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "resourceVersion": "41",
            "managedFields": [{"manager": "kubectl-edit", "time": "2025-03-01T12:00:00Z"}],
        },
    }
}


def test_changes_write_their_transitions_and_return_them(store: FindingStore) -> None:
    first = store.record_changes("prod", at(0), [WEB, API], [], object_versions=OBJECTS)
    assert first.summary.opened == 2
    assert {(w.fingerprint, w.change) for w in first.transitions} == {
        (WEB.fingerprint, Change.OPENED),
        (API.fingerprint, Change.OPENED),
    }
    web = next(w for w in first.transitions if w.fingerprint == WEB.fingerprint)
    assert (web.resource_version, web.changed_by, web.rule_id) == ("41", "kubectl-edit", "WL-001")

    gone = store.record_changes("prod", at(1), [], [WEB.fingerprint], object_versions={})
    (resolved,) = gone.transitions
    assert (resolved.change, resolved.from_state, resolved.to_state) == (Change.RESOLVED, State.OPEN, State.RESOLVED)
    # A resolution names the finding it closes, from what the store knew of it.
    assert (resolved.rule_id, resolved.resource, resolved.message) == ("WL-001", WEB.resource, WEB.message)

    back = store.record_changes("prod", at(2), [WEB], [], object_versions=OBJECTS)
    assert [w.change for w in back.transitions] == [Change.REOPENED]
    waived = store.record_changes("prod", at(3), [excepted(API)], [], object_versions={})
    assert [(w.change, w.waiver is not None) for w in waived.transitions] == [(Change.EXCEPTED, True)]
    assert sorted(f.name for f in (x.resource for x in store.open_findings("prod"))) == ["web"]


def test_recording_the_same_change_twice_adds_nothing(store: FindingStore) -> None:
    store.record_changes("prod", at(0), [WEB], [], object_versions={})
    again = store.record_changes("prod", at(0), [WEB], [], object_versions={})
    assert again.transitions == [] and again.summary.transitions == 0
    store.record_changes("prod", at(1), [], [WEB.fingerprint], object_versions={})
    twice = store.record_changes("prod", at(1), [], [WEB.fingerprint], object_versions={})
    assert twice.transitions == []
    assert len(store.transitions("prod")) == 2


def test_an_older_change_is_ignored(store: FindingStore) -> None:
    store.record_changes("prod", at(5), [WEB], [], object_versions={})
    late = store.record_changes("prod", at(4), [], [WEB.fingerprint], object_versions={})
    assert late.summary.ignored and late.transitions == []
    assert [f.fingerprint for f in store.open_findings("prod")] == [WEB.fingerprint]


def test_gone_fingerprints_the_store_never_saw_are_nothing(store: FindingStore) -> None:
    result = store.record_changes("prod", at(0), [], ["0" * 20], object_versions={})
    assert result.transitions == []


def test_changes_and_whole_scans_agree(store: FindingStore) -> None:
    """Recording deltas gives the same open findings and transitions as recording full scans."""
    states = [[WEB, API], [WEB, DB], [excepted(WEB), DB], [DB], [API, DB]]
    store.record_changes("delta", at(0), states[0], [], object_versions={})
    for step, (before, after) in enumerate(itertools.pairwise(states), start=1):
        now = {f.fingerprint: f for f in after}
        changed = [f for f in after if f not in before]
        gone = [f.fingerprint for f in before if f.fingerprint not in now]
        store.record_changes("delta", at(step), changed, gone, object_versions={})
    for step, state in enumerate(states):
        store.record_scan("full", scan(*state), at(step))

    def history(cluster: str) -> list[tuple[str, str, str]]:
        return [(t.fingerprint, t.change.value, t.at.isoformat()) for t in store.transitions(cluster)]

    assert sorted(history("delta")) == sorted(history("full"))
    delta = sorted(f.fingerprint for f in store.open_findings("delta", include_excepted=True))
    full = sorted(f.fingerprint for f in store.open_findings("full", include_excepted=True))
    assert delta == full


def test_covered_kinds_keep_findings_of_kinds_not_read(store: FindingStore) -> None:
    binding = finding("RB-001", "admins", kind="ClusterRoleBinding", namespace=None)
    store.record_scan("prod", scan(WEB, binding), at(0))
    # The next read could not list ClusterRoleBindings (403): their findings stay open.
    summary = store.record_scan("prod", scan(), at(1), covered_kinds={"Deployment"})
    assert summary.resolved == 1
    assert [f.rule_id for f in store.open_findings("prod")] == ["RB-001"]


def test_non_findings_do_not_open_anything(store: FindingStore) -> None:
    passed = finding("WL-003", "web", status=Status.PASS)
    result = store.record_changes("prod", at(0), [passed], [], object_versions={})
    assert result.transitions == []
