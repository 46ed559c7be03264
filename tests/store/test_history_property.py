"""mttr on random lifecycles: the store's figures equal a minute-by-minute count made here, with
no episodes or transitions: a finding is open in a minute when the last scan before it failed it."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.model.finding import Status
from stockade.store import FindingStore
from stockade.store.history import mttr

from .helpers import at, scan
from .test_property import UNIVERSE, seen

_clusters = itertools.count()

# Each scan: how many minutes after the previous one, and each finding absent / failing / waived.
steps = st.lists(
    st.tuples(
        st.integers(1, 90), st.lists(st.sampled_from([None, Status.FAIL, Status.EXCEPTED]), min_size=6, max_size=6)
    ),
    max_size=10,
)


def expected(timeline: list[tuple[int, list[Status | None]]], now: int) -> dict[str, tuple[list[int], list[int]]]:
    """Rule → (open minutes of each episode that ended, open minutes so far of those open at ``now``)."""
    out: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for index, base in enumerate(UNIVERSE):
        status_at = {minute: choices[index] for minute, choices in timeline}
        status: Status | None = None
        open_minutes = 0
        for minute in range(timeline[0][0] if timeline else now, now):
            status = status_at.get(minute, status)
            if status is None:  # resolved (or never there): an episode with open time has ended
                if open_minutes:
                    out[base.rule_id][0].append(open_minutes)
                open_minutes = 0
            elif status is Status.FAIL:
                open_minutes += 1
        if status is Status.FAIL and timeline and status_at.get(now, status) is Status.FAIL:
            out[base.rule_id][1].append(open_minutes)
    return {rule: lists for rule, lists in out.items() if lists[0] or lists[1]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_mttr_matches_a_minute_by_minute_count(
    store: FindingStore, sequence: list[tuple[int, list[Status | None]]]
) -> None:
    cluster = f"m{next(_clusters)}"
    timeline = []
    minute = 0
    for gap, choices in sequence:
        minute += gap
        timeline.append((minute, choices))
        store.record_scan(cluster, scan(*seen(choices)), at(minute))
    now = minute + 7
    rows = {row.group: row for row in mttr(store, cluster, by="rule", now=at(now))}
    wanted = expected(timeline, now)
    assert set(rows) == set(wanted)
    for rule, (took, ages) in wanted.items():
        row = rows[rule]
        assert (row.resolved, row.still_open) == (len(took), len(ages))
        if took:
            assert row.mean is not None and row.median is not None
            assert row.mean.total_seconds() / 60 == pytest.approx(statistics.mean(took))
            assert row.median.total_seconds() / 60 == pytest.approx(statistics.median(took))
        if ages:
            assert row.oldest_open is not None
            assert row.oldest_open.total_seconds() / 60 == max(ages)
