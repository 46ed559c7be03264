"""The dashboard's reads of the history store: SQL chooses, counts and pages; nothing loads a
whole table. Every function takes the store's engine and returns plain rows for the templates."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, func, select, true

from stockade.model.finding import Severity
from stockade.store.schema import clusters, findings, transitions

SEVERITIES = tuple(s.value for s in Severity)  # worst first
STATES = ("open", "excepted", "resolved")
PAGE_SIZE = 50


@dataclass(slots=True)
class ClusterSummary:
    name: str
    last_scan_at: dt.datetime | None
    open: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    excepted: int = 0
    resolved: int = 0

    @property
    def open_total(self) -> int:
        return sum(self.open.values())


def cluster_summaries(engine: Engine) -> list[ClusterSummary]:
    """Every cluster with its findings counted by state (open ones by severity)."""
    counted = (
        select(findings.c.cluster_id, findings.c.state, findings.c.severity, func.count().label("n"))
        .group_by(findings.c.cluster_id, findings.c.state, findings.c.severity)
        .subquery()
    )
    query = (
        select(clusters.c.name, clusters.c.last_scan_at, counted.c.state, counted.c.severity, counted.c.n)
        .outerjoin(counted, counted.c.cluster_id == clusters.c.id)
        .order_by(clusters.c.name)
    )
    summaries: dict[str, ClusterSummary] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            summary = summaries.setdefault(row.name, ClusterSummary(row.name, row.last_scan_at))
            if row.state == "open":
                summary.open[row.severity] = summary.open.get(row.severity, 0) + row.n
            elif row.state == "excepted":
                summary.excepted += row.n
            elif row.state == "resolved":
                summary.resolved += row.n
    return list(summaries.values())


@dataclass(frozen=True, slots=True)
class FindingFilter:
    """What the findings page shows; None (or empty) means any. ``rules`` is what ``area`` and
    ``rule`` resolve to (None: any rule)."""

    cluster: str | None = None
    severity: str | None = None
    state: str | None = "open"
    namespace: str | None = None
    rules: tuple[str, ...] | None = None
    page: int = 1

    def conditions(self) -> list[Any]:
        where: list[Any] = []
        if self.cluster:
            where.append(clusters.c.name == self.cluster)
        if self.severity:
            where.append(findings.c.severity == self.severity)
        if self.state:
            where.append(findings.c.state == self.state)
        if self.namespace:
            where.append(findings.c.namespace == self.namespace)
        if self.rules is not None:
            where.append(findings.c.rule_id.in_(self.rules) if self.rules else findings.c.id.is_(None))
        return where


@dataclass(frozen=True, slots=True)
class FindingRow:
    id: int
    cluster: str
    rule_id: str
    severity: str
    kind: str
    namespace: str | None
    name: str
    container: str | None
    path: str
    message: str
    state: str
    first_seen: dt.datetime
    last_seen: dt.datetime


@dataclass(frozen=True, slots=True)
class FindingPage:
    rows: list[FindingRow]
    total: int
    page: int
    pages: int


def _finding_row(row: Any) -> FindingRow:
    return FindingRow(
        id=row.id,
        cluster=row.cluster,
        rule_id=row.rule_id,
        severity=row.severity,
        kind=row.kind,
        namespace=row.namespace,
        name=row.name,
        container=row.container,
        path=row.path,
        message=row.message,
        state=row.state,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


_FINDING_COLUMNS = (
    findings.c.id,
    clusters.c.name.label("cluster"),
    findings.c.rule_id,
    findings.c.severity,
    findings.c.kind,
    findings.c.namespace,
    findings.c.name,
    findings.c.container,
    findings.c.path,
    findings.c.message,
    findings.c.state,
    findings.c.first_seen,
    findings.c.last_seen,
)


def find(engine: Engine, wanted: FindingFilter, page_size: int = PAGE_SIZE) -> FindingPage:
    """One page of the findings ``wanted`` selects, worst first, most recently seen first.

    The rows are counted per severity first; the page is then read from the one or two severities
    it spans, each in (severity, last_seen, id) index order, so a deep page does not sort every
    finding by a computed rank."""
    where = and_(true(), *wanted.conditions())
    joined = findings.join(clusters, clusters.c.id == findings.c.cluster_id)
    with engine.connect() as conn:
        counted = conn.execute(
            select(findings.c.severity, func.count()).select_from(joined).where(where).group_by(findings.c.severity)
        ).all()
        per_severity = {str(severity): int(n) for severity, n in counted}
        total = sum(per_severity.values())
        pages = max(1, math.ceil(total / page_size))
        page = min(max(1, wanted.page), pages)
        offset = (page - 1) * page_size
        rows: list[FindingRow] = []
        before = 0  # findings of worse severities than the one being read
        for severity in _severity_order(per_severity):
            count = per_severity[severity]
            skip = max(0, offset - before)
            if skip < count and len(rows) < page_size:
                query = (
                    select(*_FINDING_COLUMNS)
                    .select_from(joined)
                    .where(where, findings.c.severity == severity)
                    .order_by(findings.c.last_seen.desc(), findings.c.id.desc())
                    .limit(page_size - len(rows))
                    .offset(skip)
                )
                rows.extend(_finding_row(r) for r in conn.execute(query))
            before += count
    return FindingPage(rows, total, page, pages)


def _severity_order(present: Mapping[str, int]) -> list[str]:
    """Worst first; a severity Stockade does not know (an older store's) after the known ones."""
    return [s for s in SEVERITIES if s in present] + sorted(set(present) - set(SEVERITIES))


@dataclass(frozen=True, slots=True)
class LifecycleStep:
    at: dt.datetime
    change: str
    from_state: str | None
    to_state: str
    resource_version: str | None
    changed_by: str | None
    waiver_source: str | None
    waiver_reason: str | None
    waiver_expires: dt.date | None


def finding(engine: Engine, finding_id: int) -> tuple[FindingRow, list[LifecycleStep]] | None:
    """One finding and every transition it went through, oldest first."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_FINDING_COLUMNS)
            .select_from(findings.join(clusters, clusters.c.id == findings.c.cluster_id))
            .where(findings.c.id == finding_id)
        ).first()
        if row is None:
            return None
        steps = conn.execute(
            select(transitions)
            .where(transitions.c.finding_id == finding_id)
            .order_by(transitions.c.at, transitions.c.id)
        ).all()
    return _finding_row(row), [
        LifecycleStep(
            s.at,
            s.change,
            s.from_state,
            s.to_state,
            s.resource_version,
            s.changed_by,
            s.waiver_source,
            s.waiver_reason,
            s.waiver_expires,
        )
        for s in steps
    ]


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    finding: FindingRow
    since: dt.datetime
    source: str | None
    reason: str | None
    expires: dt.date | None

    def days_left(self, today: dt.date) -> int | None:
        return None if self.expires is None else (self.expires - today).days


@dataclass(frozen=True, slots=True)
class ExceptionPage:
    rows: list[ExceptionRow]
    total: int
    page: int
    pages: int


def exceptions(engine: Engine, cluster: str | None, page: int = 1, page_size: int = PAGE_SIZE) -> ExceptionPage:
    """The findings excepted now, with the waiver that excepted them; soonest expiry first, none
    last. An excepted finding's latest transition is the one that excepted it (a finding's state
    is its last transition's): one probe of the per-finding index each, then those transitions
    by id. (One join of the two makes PostgreSQL hash every transition.)"""
    where = [findings.c.state == "excepted"] + ([clusters.c.name == cluster] if cluster else [])
    latest = (
        select(transitions.c.id)
        .where(transitions.c.finding_id == findings.c.id)
        .order_by(transitions.c.at.desc(), transitions.c.id.desc())
        .limit(1)
        .correlate(findings)
        .scalar_subquery()
    )
    joined = findings.join(clusters, clusters.c.id == findings.c.cluster_id)
    with engine.connect() as conn:
        waived_by = dict(conn.execute(select(findings.c.id, latest).select_from(joined).where(*where)).all())
        expiry: list[tuple[bool, dt.date, int, int]] = []
        ids = list(waived_by.values())
        for start in range(0, len(ids), 5_000):
            chosen = select(transitions.c.id, transitions.c.finding_id, transitions.c.waiver_expires).where(
                transitions.c.id.in_(ids[start : start + 5_000])
            )
            for number, finding_id, expires in conn.execute(chosen):
                expiry.append((expires is None, expires or dt.date.max, finding_id, number))
        expiry.sort()
        pages = max(1, math.ceil(len(expiry) / page_size))
        page = min(max(1, page), pages)
        shown = [number for *_, number in expiry[(page - 1) * page_size : page * page_size]]
        rows = conn.execute(
            select(
                *_FINDING_COLUMNS,
                transitions.c.at.label("since"),
                transitions.c.waiver_source,
                transitions.c.waiver_reason,
                transitions.c.waiver_expires,
                transitions.c.id.label("waiver_id"),
            )
            .select_from(joined.join(transitions, transitions.c.finding_id == findings.c.id))
            .where(transitions.c.id.in_(shown))
        ).all()
    place = {number: index for index, number in enumerate(shown)}
    ordered = sorted(rows, key=lambda r: place[r.waiver_id])
    found = [
        ExceptionRow(_finding_row(r), r.since, r.waiver_source, r.waiver_reason, r.waiver_expires) for r in ordered
    ]
    return ExceptionPage(found, len(expiry), page, pages)


def cluster_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(clusters.c.name).order_by(clusters.c.name)))


def rules_of(
    areas: Mapping[str, str], area: str | None, rule: str | None, known: Sequence[str]
) -> tuple[str, ...] | None:
    """The rule ids an area and rule filter leave (None: no filter on rules)."""
    if not area and not rule:
        return None
    if rule and rule not in areas:  # a user policy's rule: no area, so an area filter excludes it
        return () if area else (rule,)
    chosen = [r for r in known if (not area or areas.get(r) == area) and (not rule or r == rule)]
    return tuple(chosen)
