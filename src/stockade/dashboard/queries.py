"""The dashboard's reads of the history store: SQL chooses, counts and pages; nothing loads a
whole table. Every function takes the store's engine and returns plain rows for the templates."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, case, func, select, true

from stockade.model.finding import Severity
from stockade.store.schema import clusters, findings, transitions

SEVERITIES = tuple(s.value for s in Severity)  # worst first
STATES = ("open", "excepted", "resolved")
PAGE_SIZE = 50
_RANK = case({s: n for n, s in enumerate(SEVERITIES)}, value=findings.c.severity, else_=len(SEVERITIES))


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
    """One page of the findings ``wanted`` selects, worst first, most recently seen first."""
    where = and_(true(), *wanted.conditions())
    joined = findings.join(clusters, clusters.c.id == findings.c.cluster_id)
    with engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(joined).where(where)) or 0)
        pages = max(1, math.ceil(total / page_size))
        page = min(max(1, wanted.page), pages)
        query = (
            select(*_FINDING_COLUMNS)
            .select_from(joined)
            .where(where)
            .order_by(_RANK, findings.c.last_seen.desc(), findings.c.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        rows = [_finding_row(r) for r in conn.execute(query)]
    return FindingPage(rows, total, page, pages)


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


def exceptions(engine: Engine, cluster: str | None) -> list[ExceptionRow]:
    """The findings excepted now, with the waiver that excepted them; soonest expiry first."""
    excepted = findings.c.state == "excepted"
    where = [excepted] + ([clusters.c.name == cluster] if cluster else [])
    latest = (
        select(func.max(transitions.c.id).label("id"))
        .select_from(transitions.join(findings, findings.c.id == transitions.c.finding_id))
        .join(clusters, clusters.c.id == findings.c.cluster_id)
        .where(transitions.c.to_state == "excepted", *where)
        .group_by(transitions.c.finding_id)
        .subquery()
    )
    query = (
        select(
            *_FINDING_COLUMNS,
            transitions.c.at.label("since"),
            transitions.c.waiver_source,
            transitions.c.waiver_reason,
            transitions.c.waiver_expires,
        )
        .select_from(transitions.join(latest, latest.c.id == transitions.c.id))
        .join(findings, findings.c.id == transitions.c.finding_id)
        .join(clusters, clusters.c.id == findings.c.cluster_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found = [ExceptionRow(_finding_row(r), r.since, r.waiver_source, r.waiver_reason, r.waiver_expires) for r in rows]
    return sorted(found, key=lambda e: (e.expires is None, e.expires or dt.date.max, e.finding.id))


def cluster_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(clusters.c.name).order_by(clusters.c.name)))


def rules_of(
    areas: Mapping[str, str], area: str | None, rule: str | None, known: Sequence[str]
) -> tuple[str, ...] | None:
    """The rule ids an area and rule filter leave (None: no filter on rules)."""
    if not area and not rule:
        return None
    chosen = [r for r in known if (not area or areas.get(r) == area) and (not rule or r == rule)]
    return tuple(chosen)
