"""The finding lifecycle store: each finding of each cluster, when it was first and last seen, every
state change with who made it and the object state behind it, kept for replay."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from stockade.model.finding import Finding, ResourceRef, Severity, Waiver
from stockade.model.result import ScanResult
from stockade.store.engine import WRITE, create_store_engine
from stockade.store.errors import StoreError
from stockade.store.lifecycle import Change, Known, Move, State, plan, scan_states
from stockade.store.migrate import upgrade
from stockade.store.objects import ObjectKey, RawObject, Snapshot, last_manager, resource_version, restore, snapshot
from stockade.store.schema import clusters, findings, object_states, transitions

T = TypeVar("T")
# Values per IN (...): well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredFinding:
    fingerprint: str
    rule_id: str
    severity: Severity
    resource: ResourceRef
    container: str | None
    path: str
    message: str
    state: State  # as of the time asked about
    first_seen: dt.datetime
    last_seen: dt.datetime


@dataclass(frozen=True, slots=True)
class StoredTransition:
    fingerprint: str
    rule_id: str
    resource: ResourceRef
    at: dt.datetime
    change: Change
    from_state: State | None
    to_state: State
    resource_version: str | None
    changed_by: str | None
    waiver: Waiver | None
    object_state_id: int | None  # the object as it was (see FindingStore.object_state); None once pruned


@dataclass(frozen=True, slots=True)
class Written:
    """One transition as written by :meth:`FindingStore.record_changes`, with the finding it moved."""

    fingerprint: str
    change: Change
    from_state: State | None
    to_state: State
    rule_id: str
    severity: Severity
    message: str
    resource: ResourceRef
    container: str | None
    path: str
    resource_version: str | None
    changed_by: str | None
    waiver: Waiver | None


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What one recorded scan changed. ``ignored``: the scan is older than one already recorded."""

    opened: int = 0
    reopened: int = 0
    excepted: int = 0
    resolved: int = 0
    ignored: bool = False

    @property
    def transitions(self) -> int:
        return self.opened + self.reopened + self.excepted + self.resolved


@dataclass(frozen=True, slots=True)
class Recorded:
    summary: RecordSummary
    transitions: list[Written]


class FindingStore:
    """The history of findings of any number of clusters, in one SQLite file or PostgreSQL database.

    ::

        with FindingStore.open("postgresql://stockade@db/stockade", retention=dt.timedelta(days=90)) as store:
            store.record_scan("prod-eu", stockade.scan(sources), dt.datetime.now(dt.UTC))
            for finding in store.open_findings("prod-eu"):
                print(finding.rule_id, finding.resource.display, finding.first_seen)
    """

    def __init__(self, engine: Engine, *, retention: dt.timedelta | None = None) -> None:
        """A store on ``engine``, whose schema must be current (:meth:`open` migrates it).
        ``retention``: object states no transition used for this long are pruned as scans arrive."""
        self.engine = engine
        self.retention = retention

    @classmethod
    def open(cls, url: str | None = None, *, retention: dt.timedelta | None = None) -> Self:
        """The store at ``url`` (None: the default SQLite file), its schema migrated to the latest revision."""
        engine = create_store_engine(url)
        try:
            upgrade(engine)
        except OperationalError as error:
            engine.dispose()
            where = engine.url.render_as_string(hide_password=True)
            raise StoreError(f"cannot open the store at {where}: {error.orig}") from None
        return cls(engine, retention=retention)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Writing

    def record_scan(
        self,
        cluster: str,
        result: ScanResult,
        at: dt.datetime,
        *,
        object_versions: Mapping[ObjectKey, RawObject] | None = None,
        changed_by: Mapping[ObjectKey, str] | None = None,
        scope: Collection[ObjectKey] | None = None,
        covered_kinds: Collection[str] | None = None,
    ) -> RecordSummary:
        """Record what a scan of ``cluster`` at ``at`` saw, in one transaction; recording it again adds nothing.

        ``object_versions``: the objects scanned (default: the scan's inventory), for the
        resourceVersion, last writer and stored state behind each transition. ``changed_by``: who
        changed an object, when known (e.g. from the audit log); else its managedFields manager.
        ``scope``: the objects a partial scan looked at (None: a full scan). Only findings of
        objects in scope are resolved when not seen, and none when the scan is incomplete: what a
        scan could not read is not fixed. ``covered_kinds``: the kinds the scan read completely
        (a watcher's, when some kind was forbidden); findings of other kinds stay as they are.
        """
        _require_aware(at)
        scanned = scan_states(result.findings)
        objects = _objects_of(result) if object_versions is None else object_versions
        in_scope = None if scope is None else frozenset(scope)
        kinds = None if covered_kinds is None else frozenset(covered_kinds)

        def covers(key: ObjectKey) -> bool:
            if kinds is not None:
                return key.kind in kinds and (in_scope is None or key in in_scope)
            return result.complete and (in_scope is None or key in in_scope)

        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                cluster_id, newest = _lock_cluster(conn, cluster, at)
                if newest is not None and at < newest:
                    return RecordSummary(ignored=True)
                diff = plan(_known(conn, cluster_id, scanned), scanned, covers)
                _update_seen(conn, diff.seen, at)
                ids = _insert_findings(conn, cluster_id, [m for m in diff.moves if m.known is None], at)
                _update_states(conn, diff.moves)
                states = _store_objects(conn, cluster_id, {m.key for m in diff.moves}, objects, at)
                _insert_transitions(conn, cluster_id, diff.moves, ids, states, objects, changed_by or {}, at)
                if self.retention is not None:
                    _prune(conn, at - self.retention)
        return _summary(diff.moves)

    def record_changes(
        self,
        cluster: str,
        at: dt.datetime,
        current: Iterable[Finding],
        gone: Iterable[str],
        *,
        object_versions: Mapping[ObjectKey, RawObject],
        changed_by: Mapping[ObjectKey, str] | None = None,
    ) -> Recorded:
        """Record what changed since the last record of ``cluster``, in one transaction: the
        ``current`` state of findings that appeared or changed, and the fingerprints of findings
        that are ``gone`` (their object was fixed or deleted). Only those rows are read, so the cost
        follows the change, not the size of the cluster. Recording the same change again adds
        nothing; a change older than the last recorded one is ignored.

        Returns the transitions written, for the watcher to tell people about."""
        _require_aware(at)
        scanned = scan_states(current)
        removed = [fingerprint for fingerprint in dict.fromkeys(gone) if fingerprint not in scanned]
        if not scanned and not removed:
            return Recorded(RecordSummary(), [])
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                cluster_id, newest = _lock_cluster(conn, cluster, at)
                if newest is not None and at < newest:
                    return Recorded(RecordSummary(ignored=True), [])
                known = _known_of(conn, cluster_id, [*scanned, *removed])
                # Every known finding not seen here is one of ``gone``: each is resolved.
                diff = plan(known, scanned, lambda _key: True)
                _update_seen(conn, diff.seen, at)
                ids = _insert_findings(conn, cluster_id, [m for m in diff.moves if m.known is None], at)
                _update_states(conn, diff.moves)
                states = _store_objects(conn, cluster_id, {m.key for m in diff.moves}, object_versions, at)
                by = changed_by or {}
                _insert_transitions(conn, cluster_id, diff.moves, ids, states, object_versions, by, at)
                if self.retention is not None:
                    _prune(conn, at - self.retention)
        return Recorded(_summary(diff.moves), [_written(m, object_versions, by) for m in diff.moves])

    def prune(self, older_than: dt.datetime) -> int:
        """Drop object states no transition has used since ``older_than``; returns how many.
        Their transitions stay, without the state (``object_state_id`` None)."""
        _require_aware(older_than)
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                return _prune(conn, older_than)

    # Reading

    def clusters(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(clusters.c.name).order_by(clusters.c.name)))

    def open_findings(
        self, cluster: str, at: dt.datetime | None = None, *, include_excepted: bool = False
    ) -> list[StoredFinding]:
        """The findings of ``cluster`` open now, or at ``at`` (replayed from the transitions; their
        first_seen and last_seen are today's). ``include_excepted`` adds the waived ones."""
        wanted = [State.OPEN.value, State.EXCEPTED.value] if include_excepted else [State.OPEN.value]
        cluster_id = select(clusters.c.id).where(clusters.c.name == cluster).scalar_subquery()
        if at is None:
            query = select(findings, findings.c.state.label("as_of")).where(
                findings.c.cluster_id == cluster_id, findings.c.state.in_(wanted)
            )
        else:
            _require_aware(at)
            latest = (
                select(
                    transitions.c.finding_id,
                    transitions.c.to_state,
                    func.row_number()
                    .over(
                        partition_by=transitions.c.finding_id,
                        order_by=(transitions.c.at.desc(), transitions.c.id.desc()),
                    )
                    .label("n"),
                )
                .where(transitions.c.cluster_id == cluster_id, transitions.c.at <= at)
                .subquery()
            )
            query = (
                select(findings, latest.c.to_state.label("as_of"))
                .join(latest, latest.c.finding_id == findings.c.id)
                .where(latest.c.n == 1, latest.c.to_state.in_(wanted))
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(findings.c.id)).all()
        return [_stored_finding(row) for row in rows]

    def transitions(self, cluster: str, since: dt.datetime | None = None) -> list[StoredTransition]:
        """Every state change of ``cluster``'s findings (at or after ``since``), oldest first."""
        query = (
            select(
                transitions,
                findings.c.fingerprint,
                findings.c.rule_id,
                findings.c.api_version,
                findings.c.kind,
                findings.c.namespace,
                findings.c.name,
            )
            .join(findings, findings.c.id == transitions.c.finding_id)
            .join(clusters, clusters.c.id == transitions.c.cluster_id)
            .where(clusters.c.name == cluster)
            .order_by(transitions.c.at, transitions.c.id)
        )
        if since is not None:
            _require_aware(since)
            query = query.where(transitions.c.at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_stored_transition(row) for row in rows]

    def object_state(self, state_id: int) -> dict[str, Any] | None:
        """The object as it stood at a transition (Secret values blanked), or None once pruned."""
        with self.engine.connect() as conn:
            content = conn.scalar(select(object_states.c.content).where(object_states.c.id == state_id))
        return None if content is None else restore(content)

    # The object-version timeline replay reads (stockade.store.history holds the queries).

    def record_objects(
        self, cluster: str, versions: Iterable[tuple[ObjectKey, RawObject | None]], at: dt.datetime
    ) -> int:
        """Store each object version observed at ``at`` that differs from the object's latest
        stored one (None: deleted), for :func:`stockade.store.history.replay`; returns how many.
        See :func:`stockade.store.history.record_objects`."""
        from stockade.store.history import record_objects

        return record_objects(self, cluster, versions, at)

    def record_view(
        self, cluster: str, content: Mapping[str, Any], at: dt.datetime, stages: Mapping[str, str] | None = None
    ) -> None:
        """Keep what a full evaluation of ``cluster`` showed beyond its findings (a JSON mapping,
        see :mod:`stockade.views`), as of ``at``, with each area's stage (``stages``) for the
        stage history."""
        from stockade.store.views import record_view

        record_view(self, cluster, content, at, stages)

    def stage_history(self, cluster: str, limit: int = 200) -> list[tuple[dt.datetime, dict[str, str]]]:
        """Each area's stage at the cluster's ``limit`` most recent views, oldest first."""
        from stockade.store.views import stage_history

        return stage_history(self, cluster, limit)

    def latest_view(self, cluster: str) -> tuple[dt.datetime, dict[str, Any]] | None:
        """The cluster's most recent view and when it was recorded, or None."""
        from stockade.store.views import latest_view

        return latest_view(self, cluster)

    def latest_view_id(self, cluster: str) -> int | None:
        """The id of the cluster's most recent view, to tell whether a held copy is current."""
        from stockade.store.views import latest_view_id

        return latest_view_id(self, cluster)


def _summary(moves: Sequence[Move]) -> RecordSummary:
    counts = Counter(move.change for move in moves)
    return RecordSummary(
        opened=counts[Change.OPENED],
        reopened=counts[Change.REOPENED],
        excepted=counts[Change.EXCEPTED],
        resolved=counts[Change.RESOLVED],
    )


def _written(move: Move, objects: Mapping[ObjectKey, RawObject], changed_by: Mapping[ObjectKey, str]) -> Written:
    raw = objects.get(move.key)
    known, finding = move.known, move.finding
    if finding is not None:
        rule_id, severity, message = finding.rule_id, finding.severity, finding.message
        resource, container, path = finding.resource, finding.container, finding.path
    else:
        assert known is not None  # a resolution is always of a known finding
        rule_id, severity, message = known.rule_id, Severity(known.severity), known.message
        resource, container, path = known.resource, known.container, known.path
    return Written(
        fingerprint=finding.fingerprint if finding is not None else known.fingerprint if known else "",
        change=move.change,
        from_state=known.state if known else None,
        to_state=move.after,
        rule_id=rule_id,
        severity=severity,
        message=message,
        resource=resource,
        container=container,
        path=path,
        resource_version=resource_version(raw) if raw is not None else None,
        changed_by=changed_by.get(move.key) or (last_manager(raw) if raw is not None else None),
        waiver=finding.waiver if finding is not None else None,
    )


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"the store needs aware datetimes, got naive {moment.isoformat()}")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _objects_of(result: ScanResult) -> dict[ObjectKey, RawObject]:
    if result.inventory is None:
        return {}
    return {ObjectKey(r.kind, r.namespace or None, r.name): r.raw for r in result.inventory}


def _lock_cluster(conn: Connection, name: str, at: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The cluster's id and last scan time, its row locked until commit (one writer per cluster)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(clusters).values(name=name, created_at=at).on_conflict_do_nothing(index_elements=["name"])
    )
    row = conn.execute(
        select(clusters.c.id, clusters.c.last_scan_at).where(clusters.c.name == name).with_for_update()
    ).one()
    if row.last_scan_at is None or at > row.last_scan_at:
        conn.execute(update(clusters).where(clusters.c.id == row.id).values(last_scan_at=at))
    return row.id, row.last_scan_at


_KNOWN = (
    findings.c.id,
    findings.c.fingerprint,
    findings.c.state,
    findings.c.rule_id,
    findings.c.api_version,
    findings.c.kind,
    findings.c.namespace,
    findings.c.name,
    findings.c.container,
    findings.c.path,
    findings.c.severity,
    findings.c.message,
)


def _known_row(row: Any) -> Known:
    return Known(
        id=row.id,
        state=State(row.state),
        key=ObjectKey(row.kind, row.namespace, row.name),
        severity=row.severity,
        message=row.message,
        fingerprint=row.fingerprint,
        rule_id=row.rule_id,
        resource=_ref(row),
        container=row.container,
        path=row.path,
    )


def _known_of(conn: Connection, cluster_id: int, fingerprints: Sequence[str]) -> dict[str, Known]:
    """The cluster's findings with these fingerprints, whatever their state."""
    ours = findings.c.cluster_id == cluster_id
    known: dict[str, Known] = {}
    for chunk in _chunks(fingerprints):
        for row in conn.execute(select(*_KNOWN).where(ours, findings.c.fingerprint.in_(chunk))):
            known[row.fingerprint] = _known_row(row)
    return known


def _known(conn: Connection, cluster_id: int, scanned: Mapping[str, object]) -> dict[str, Known]:
    """Every unresolved finding of the cluster, and the resolved ones the scan sees again."""
    ours = findings.c.cluster_id == cluster_id
    rows = list(conn.execute(select(*_KNOWN).where(ours, findings.c.state != State.RESOLVED.value)))
    unresolved = {row.fingerprint for row in rows}
    others = [fingerprint for fingerprint in scanned if fingerprint not in unresolved]
    for chunk in _chunks(others):
        rows.extend(conn.execute(select(*_KNOWN).where(ours, findings.c.fingerprint.in_(chunk))))
    return {row.fingerprint: _known_row(row) for row in rows}


def _update_seen(conn: Connection, seen: Sequence[tuple[Known, Finding]], at: dt.datetime) -> None:
    for chunk in _chunks([known.id for known, _ in seen]):
        conn.execute(update(findings).where(findings.c.id.in_(chunk), findings.c.last_seen < at).values(last_seen=at))
    changed = [
        {"b_id": known.id, "b_severity": finding.severity.value, "b_message": finding.message}
        for known, finding in seen
        if known.severity != finding.severity.value or known.message != finding.message
    ]
    if changed:
        conn.execute(
            update(findings)
            .where(findings.c.id == bindparam("b_id"))
            .values(severity=bindparam("b_severity"), message=bindparam("b_message")),
            changed,
        )


def _insert_findings(conn: Connection, cluster_id: int, new: Sequence[Move], at: dt.datetime) -> dict[str, int]:
    """Insert the findings seen for the first time (one batch); their ids by fingerprint."""
    rows = [
        {
            "cluster_id": cluster_id,
            "fingerprint": f.fingerprint,
            "rule_id": f.rule_id,
            "severity": f.severity.value,
            "api_version": f.resource.api_version,
            "kind": f.resource.kind,
            "namespace": f.resource.namespace or None,
            "name": f.resource.name,
            "container": f.container,
            "path": f.path,
            "message": f.message,
            "state": move.after.value,
            "first_seen": at,
            "last_seen": at,
        }
        for move in new
        if (f := move.finding) is not None
    ]
    if not rows:
        return {}
    statement = insert(findings).returning(findings.c.id, findings.c.fingerprint, sort_by_parameter_order=True)
    return {row.fingerprint: row.id for row in conn.execute(statement, rows)}


def _update_states(conn: Connection, moves: Sequence[Move]) -> None:
    for after in State:
        ids = [m.known.id for m in moves if m.known is not None and m.after is after]
        for chunk in _chunks(ids):
            conn.execute(update(findings).where(findings.c.id.in_(chunk)).values(state=after.value))


def _store_objects(
    conn: Connection,
    cluster_id: int,
    keys: Collection[ObjectKey],
    objects: Mapping[ObjectKey, RawObject],
    at: dt.datetime,
) -> dict[ObjectKey, int]:
    """Store the states of the objects behind this scan's transitions, once per distinct content;
    the state id of each object."""
    snapshots = [snapshot(key, objects[key]) for key in keys if key in objects]
    if not snapshots:
        return {}
    ids = store_states(conn, cluster_id, snapshots, at)
    return {s.key: ids[s.content_hash] for s in snapshots}


def store_states(conn: Connection, cluster_id: int, snapshots: Sequence[Snapshot], at: dt.datetime) -> dict[str, int]:
    """Each snapshot's state id by content hash, storing the contents not yet stored."""
    ids: dict[str, int] = {}
    hashes = sorted({s.content_hash for s in snapshots})
    for chunk in _chunks(hashes):
        query = select(object_states.c.id, object_states.c.content_hash).where(
            object_states.c.cluster_id == cluster_id, object_states.c.content_hash.in_(chunk)
        )
        ids.update({row.content_hash: row.id for row in conn.execute(query)})
    touch_states(conn, list(ids.values()), at)
    fresh = {s.content_hash: s for s in snapshots if s.content_hash not in ids}
    if fresh:
        rows = [
            {
                "cluster_id": cluster_id,
                "kind": s.key.kind,
                "namespace": s.key.namespace,
                "name": s.key.name,
                "resource_version": s.resource_version,
                "content_hash": s.content_hash,
                "content": s.content,
                "stored_at": at,
                "last_used_at": at,
            }
            for s in fresh.values()
        ]
        statement = insert(object_states).returning(
            object_states.c.id, object_states.c.content_hash, sort_by_parameter_order=True
        )
        ids.update({row.content_hash: row.id for row in conn.execute(statement, rows)})
    return ids


def touch_states(conn: Connection, state_ids: Sequence[int], at: dt.datetime) -> None:
    """Mark states used at ``at`` (never moving their last use back: versions may arrive late)."""
    for chunk in _chunks(state_ids):
        conn.execute(
            update(object_states)
            .where(object_states.c.id.in_(chunk), object_states.c.last_used_at < at)
            .values(last_used_at=at)
        )


def _insert_transitions(
    conn: Connection,
    cluster_id: int,
    moves: Sequence[Move],
    new_ids: Mapping[str, int],
    states: Mapping[ObjectKey, int],
    objects: Mapping[ObjectKey, RawObject],
    changed_by: Mapping[ObjectKey, str],
    at: dt.datetime,
) -> None:
    rows = []
    for move in moves:
        key = move.key
        raw = objects.get(key)
        waiver = move.finding.waiver if move.finding is not None else None
        rows.append(
            {
                "cluster_id": cluster_id,
                "finding_id": move.known.id if move.known else new_ids[_fingerprint(move)],
                "at": at,
                "change": move.change.value,
                "from_state": move.known.state.value if move.known else None,
                "to_state": move.after.value,
                "resource_version": resource_version(raw) if raw is not None else None,
                "changed_by": changed_by.get(key) or (last_manager(raw) if raw is not None else None),
                "waiver_source": waiver.source if waiver else None,
                "waiver_reason": waiver.reason if waiver else None,
                "waiver_expires": dt.date.fromisoformat(waiver.expires) if waiver and waiver.expires else None,
                "object_state_id": states.get(key),
            }
        )
    if rows:
        conn.execute(insert(transitions), rows)


def _fingerprint(move: Move) -> str:
    assert move.finding is not None
    return move.finding.fingerprint


def _prune(conn: Connection, older_than: dt.datetime) -> int:
    return conn.execute(delete(object_states).where(object_states.c.last_used_at < older_than)).rowcount


def _ref(row: Row[Any]) -> ResourceRef:
    return ResourceRef(row.api_version, row.kind, row.namespace, row.name)


def _stored_finding(row: Row[Any]) -> StoredFinding:
    return StoredFinding(
        fingerprint=row.fingerprint,
        rule_id=row.rule_id,
        severity=Severity(row.severity),
        resource=_ref(row),
        container=row.container,
        path=row.path,
        message=row.message,
        state=State(row.as_of),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _stored_transition(row: Row[Any]) -> StoredTransition:
    waiver = None
    if row.waiver_source is not None:
        expires = row.waiver_expires.isoformat() if row.waiver_expires else None
        waiver = Waiver(source=row.waiver_source, reason=row.waiver_reason or "", expires=expires)
    return StoredTransition(
        fingerprint=row.fingerprint,
        rule_id=row.rule_id,
        resource=_ref(row),
        at=row.at,
        change=Change(row.change),
        from_state=State(row.from_state) if row.from_state else None,
        to_state=State(row.to_state),
        resource_version=row.resource_version,
        changed_by=row.changed_by,
        waiver=waiver,
        object_state_id=row.object_state_id,
    )
