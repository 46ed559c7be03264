"""The overview's trend: open findings by severity at the end of each day, kept warm.

:func:`stockade.store.history.trend` replays every transition of a cluster each time it is asked,
which takes seconds over a million transitions. The dashboard asks on every overview, so it folds
the transitions once and then reads only those recorded since (``id`` above the last one folded),
giving the same counts as ``trend`` with a day bucket. A transition older than the day the fold
has reached (a clock going back, a late writer) makes it fold again from the start.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from stockade.dashboard.queries import SEVERITIES
from stockade.store.history import TrendPoint
from stockade.store.schema import clusters, findings, transitions

_OPENING = ("opened", "reopened")


@dataclass(slots=True)
class _Fold:
    last_id: int = 0
    day: dt.date | None = None  # the day the fold has reached
    states: dict[int, tuple[str, str]] = field(default_factory=dict)  # finding -> (state, severity)
    held: Counter[tuple[str, str]] = field(default_factory=Counter)  # (state, severity) -> findings
    opened: int = 0  # in ``day``
    resolved: int = 0
    ends: dict[dt.date, TrendPoint] = field(default_factory=dict)  # closed days, as they ended

    def point(self, day: dt.date, opened: int = 0, resolved: int = 0) -> TrendPoint:
        counts = {s: self.held[("open", s)] for s in SEVERITIES}
        excepted = sum(n for (state, _), n in self.held.items() if state == "excepted")
        return day_point(day, counts, excepted, opened, resolved)

    def feed(self, finding_id: int, at: dt.datetime, change: str, to_state: str, severity: str) -> bool:
        """Fold one transition; False when it lies before the day reached (fold again)."""
        day = at.astimezone(dt.UTC).date()
        if self.day is not None and day < self.day:
            return False
        if self.day is not None and day > self.day:
            self.ends[self.day] = self.point(self.day, self.opened, self.resolved)
            self.opened = self.resolved = 0
        self.day = day
        before = self.states.get(finding_id)
        if before is not None:
            self.held[before] -= 1
        self.states[finding_id] = (to_state, severity)
        self.held[(to_state, severity)] += 1
        self.opened += change in _OPENING
        self.resolved += change == "resolved"
        return True


def day_point(day: dt.date, counts: Mapping[str, int], excepted: int, opened: int = 0, resolved: int = 0) -> TrendPoint:
    """The point of one UTC day, as ``trend`` with a day bucket gives it."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return TrendPoint(start, start + dt.timedelta(days=1), counts, excepted, opened, resolved)


class TrendCache:
    """Per-cluster folds of the transitions, brought up to date on each read (thread-safe)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._folds: dict[str, _Fold] = {}
        self._lock = threading.Lock()

    def days(self, cluster: str, since: dt.date, until: dt.date) -> list[TrendPoint]:
        """One point per day from ``since`` to ``until`` (both included): the counts as the day
        ended (so far, for today), with what opened and resolved in it."""
        with self._lock:
            fold = self._update(cluster)
            points = []
            last: TrendPoint | None = None
            for known in sorted(d for d in fold.ends if d < since):
                last = fold.ends[known]
            day = since
            while day <= until:
                if day in fold.ends:
                    last = fold.ends[day]
                    points.append(last)
                elif day == fold.day:
                    points.append(fold.point(day, fold.opened, fold.resolved))
                elif fold.day is not None and day > fold.day:
                    points.append(fold.point(day))
                else:
                    empty = dict.fromkeys(SEVERITIES, 0)
                    points.append(day_point(day, last.open if last else empty, last.excepted if last else 0))
                day += dt.timedelta(days=1)
            return points

    def _update(self, cluster: str) -> _Fold:
        fold = self._folds.get(cluster) or _Fold()
        if not self._fold_new(cluster, fold):
            fold = _Fold()
            self._fold_new(cluster, fold)
        self._folds[cluster] = fold
        return fold

    def _fold_new(self, cluster: str, fold: _Fold) -> bool:
        query = (
            select(
                transitions.c.id,
                transitions.c.finding_id,
                transitions.c.at,
                transitions.c.change,
                transitions.c.to_state,
                findings.c.severity,
            )
            .join(findings, findings.c.id == transitions.c.finding_id)
            .join(clusters, clusters.c.id == transitions.c.cluster_id)
            .where(clusters.c.name == cluster, transitions.c.id > fold.last_id)
            .order_by(transitions.c.at, transitions.c.id)
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=20_000).execute(query)
            for row in result:
                if not fold.feed(row.finding_id, row.at, row.change, row.to_state, row.severity):
                    result.close()
                    return False
                fold.last_id = max(fold.last_id, row.id)
        return True
