"""Whatever the sequence of scans, the store's open set is the last scan's failing findings, its
excepted set the last scan's waived ones, and replaying any past moment gives that scan's sets."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.model.finding import Finding, Status
from stockade.store import FindingStore

from .helpers import at, excepted, finding, scan

UNIVERSE = [finding(rule, name) for rule, name in itertools.product(("WL-001", "WL-002", "SA-001"), ("web", "api"))]
_clusters = itertools.count()

# Each scan: for each finding of the universe, absent / failing / waived.
scans = st.lists(st.lists(st.sampled_from([None, Status.FAIL, Status.EXCEPTED]), min_size=6, max_size=6), max_size=8)


def seen(choices: list[Status | None]) -> list[Finding]:
    return [
        base if status is Status.FAIL else excepted(base)
        for base, status in zip(UNIVERSE, choices, strict=True)
        if status is not None
    ]


def by_state(findings: list[Finding], status: Status) -> set[str]:
    return {f.fingerprint for f in findings if f.status is status}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=scans, repeat=st.booleans())
def test_the_store_follows_the_last_scan(
    store: FindingStore, sequence: list[list[Status | None]], repeat: bool
) -> None:
    cluster = f"c{next(_clusters)}"  # one store per test: each example gets its own cluster
    history = []
    for minute, choices in enumerate(sequence):
        findings = seen(choices)
        store.record_scan(cluster, scan(*findings), at(minute))
        if repeat:
            assert store.record_scan(cluster, scan(*findings), at(minute)).transitions == 0
        history.append(findings)
        now = store.open_findings(cluster, include_excepted=True)
        assert {f.fingerprint for f in now if f.state == "open"} == by_state(findings, Status.FAIL)
        assert {f.fingerprint for f in now if f.state == "excepted"} == by_state(findings, Status.EXCEPTED)
    for minute, findings in enumerate(history):
        past = {f.fingerprint for f in store.open_findings(cluster, at(minute))}
        assert past == by_state(findings, Status.FAIL)
