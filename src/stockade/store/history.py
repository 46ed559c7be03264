"""Questions over the stored history, and the object-version timeline that replay reads.

* :func:`mttr`: how long findings stay open before they are fixed, per rule, area, namespace or
  severity, and how old the ones still open are.
* :func:`trend`: the open findings by severity at the end of each day or week, with what opened
  and what was resolved in it.
* :func:`replay`: what a new or changed rule would have flagged over the stored object versions.
* :func:`record_objects` (also :meth:`FindingStore.record_objects`): store every object version a
  watcher observes, deletions included, so replay sees more than the versions behind transitions.

::

    from stockade.store import FindingStore
    from stockade.store.history import mttr, replay, trend

    with FindingStore.open() as store:
        for row in mttr(store, "prod-eu", by="area"):
            print(row.group, row.resolved, row.median, row.still_open)

All of them work the same on SQLite and PostgreSQL: SQL selects and orders the rows, Python folds
them (durations and medians would need a different date arithmetic on each engine).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from stockade.engine.evaluate import evaluate
from stockade.model.finding import ResourceRef, Severity
from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.rules.base import Rule, RuleConfig
from stockade.rules.registry import load_rules
from stockade.store.engine import WRITE
from stockade.store.lifecycle import Change, State, state_of
from stockade.store.objects import ObjectKey, RawObject, restore, snapshot
from stockade.store.schema import clusters, findings, object_states, object_versions, transitions
from stockade.store.store import CHUNK, FindingStore, _prune, store_states, touch_states

Grouping = Literal["rule", "area", "namespace", "severity"]
Bucket = Literal["day", "week"]
GROUPINGS: tuple[Grouping, ...] = ("rule", "area", "namespace", "severity")
BUCKETS: tuple[Bucket, ...] = ("day", "week")
# The group of a rule the registry no longer knows, and of findings of cluster-scoped objects.
UNKNOWN_AREA = "unknown"
CLUSTER_SCOPED = "(cluster-scoped)"


# -- mttr ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MttrRow:
    """Time to resolve in one group. ``resolved``: episodes resolved (in the window asked about);
    ``mean``/``median``: their time open. ``still_open``: findings open now; ``oldest_open`` and
    ``median_open``: their age, counted the same way (excepted time left out)."""

    group: str
    resolved: int
    mean: dt.timedelta | None
    median: dt.timedelta | None
    still_open: int
    oldest_open: dt.timedelta | None
    median_open: dt.timedelta | None


class _Lifecycle(NamedTuple):
    resolved: list[tuple[dt.datetime, dt.timedelta]]  # (resolved at, time open) per episode
    open_age: dt.timedelta | None  # time open so far, when open now


def _fold(moves: Sequence[tuple[dt.datetime, State]], now: dt.datetime) -> _Lifecycle:
    """One finding's transitions (oldest first) as episodes: an episode runs from the transition
    that takes the finding out of ``resolved`` (or creates it) to the one that resolves it. Only
    time in ``open`` counts; an episode that was excepted throughout was waived, not fixed, and is
    not counted."""
    resolved: list[tuple[dt.datetime, dt.timedelta]] = []
    open_time = dt.timedelta()
    was_open = False
    last: tuple[dt.datetime, State] | None = None
    for at, state in moves:
        if last is not None and last[1] is State.OPEN:
            open_time += at - last[0]
        if state is State.RESOLVED:
            if was_open:
                resolved.append((at, open_time))
            open_time, was_open = dt.timedelta(), False
        else:
            was_open = was_open or state is State.OPEN
        last = (at, state)
    age = None
    if last is not None and last[1] is State.OPEN:
        age = open_time + max(now - last[0], dt.timedelta())
    return _Lifecycle(resolved, age)


def _group_of(by: Grouping, row: Any, areas: Mapping[str, str]) -> str:
    if by == "rule":
        return str(row.rule_id)
    if by == "area":
        return areas.get(row.rule_id, UNKNOWN_AREA)
    if by == "namespace":
        return str(row.namespace) if row.namespace else CLUSTER_SCOPED
    return str(row.severity)


def mttr(
    store: FindingStore,
    cluster: str,
    *,
    by: Grouping = "rule",
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[MttrRow]:
    """Mean and median time to resolve per group of ``cluster``'s findings, and the findings still
    open with their age (as of ``now``, default: the current time).

    An episode is one stretch of a finding from opened (or reopened) to resolved: a finding
    reopened and resolved again counts twice. Its time to resolve is the time it spent ``open``:
    time ``excepted`` (waived) is left out, an episode excepted from start to end is not counted,
    and a finding excepted now is not "still open". ``since``: count only the episodes resolved
    at or after it (the ones still open are counted whatever their age). Areas come from the rule
    registry; a rule id it does not know goes to ``unknown``. The severity is the finding's latest.
    Rows come sorted by group (severities worst first).
    """
    _aware(since, now)
    now = now or dt.datetime.now(dt.UTC)
    areas = {rule_id: rule.area.value for rule_id, rule in load_rules().items()} if by == "area" else {}
    with store.engine.connect() as conn:
        cluster_id = _cluster_id(conn, cluster)
        if cluster_id is None:
            return []
        query = (
            select(
                transitions.c.finding_id,
                transitions.c.at,
                transitions.c.to_state,
                findings.c.rule_id,
                findings.c.namespace,
                findings.c.severity,
            )
            .join(findings, findings.c.id == transitions.c.finding_id)
            .where(transitions.c.cluster_id == cluster_id)
            .order_by(transitions.c.finding_id, transitions.c.at, transitions.c.id)
        )
        if since is not None:
            # A finding matters if it is unresolved now or moved in the window; its whole history
            # is read, since an episode resolved in the window may have opened before it.
            moved = select(transitions.c.finding_id).where(
                transitions.c.cluster_id == cluster_id, transitions.c.at >= since
            )
            query = query.where(or_(findings.c.state != State.RESOLVED.value, findings.c.id.in_(moved)))
        rows = conn.execute(query).all()
    durations: dict[str, list[dt.timedelta]] = defaultdict(list)
    ages: dict[str, list[dt.timedelta]] = defaultdict(list)
    for group, moves in _per_finding(rows, by, areas):
        lifecycle = _fold(moves, now)
        took = [open_time for at, open_time in lifecycle.resolved if since is None or at >= since]
        if took:
            durations[group].extend(took)
        if lifecycle.open_age is not None:
            ages[group].append(lifecycle.open_age)
    groups = sorted(set(durations) | set(ages), key=_group_order(by))
    return [_mttr_row(group, durations[group], ages[group]) for group in groups]


def _per_finding(
    rows: Sequence[Any], by: Grouping, areas: Mapping[str, str]
) -> Iterator[tuple[str, list[tuple[dt.datetime, State]]]]:
    """Rows ordered by finding, then time → each finding's group and its (time, state) moves."""
    current: int | None = None
    group = ""
    moves: list[tuple[dt.datetime, State]] = []
    for row in rows:
        if row.finding_id != current:
            if current is not None:
                yield group, moves
            current, group, moves = row.finding_id, _group_of(by, row, areas), []
        moves.append((row.at, State(row.to_state)))
    if current is not None:
        yield group, moves


def _group_order(by: Grouping) -> Any:
    if by == "severity":
        ranks = {s.value: s.rank for s in Severity}
        return lambda group: (-ranks.get(group, -1), group)
    return lambda group: group


def _mttr_row(group: str, durations: list[dt.timedelta], ages: list[dt.timedelta]) -> MttrRow:
    return MttrRow(
        group=group,
        resolved=len(durations),
        mean=sum(durations, dt.timedelta()) / len(durations) if durations else None,
        median=_median(durations) if durations else None,
        still_open=len(ages),
        oldest_open=max(ages) if ages else None,
        median_open=_median(ages) if ages else None,
    )


def _median(values: Sequence[dt.timedelta]) -> dt.timedelta:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# -- trend --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket ``[start, end)``: the findings open (by severity) and excepted as of its end,
    and the transitions in it (``opened`` counts opened and reopened)."""

    start: dt.datetime
    end: dt.datetime
    open: Mapping[str, int]  # every severity, worst first, zeros included
    excepted: int
    opened: int
    resolved: int

    @property
    def open_total(self) -> int:
        return sum(self.open.values())


def bucket_start(moment: dt.datetime, bucket: Bucket) -> dt.datetime:
    """The start of the UTC day, or of the ISO week (Monday 00:00 UTC), holding ``moment``."""
    day = moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - dt.timedelta(days=day.weekday()) if bucket == "week" else day


def trend(
    store: FindingStore,
    cluster: str,
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
    bucket: Bucket = "day",
) -> list[TrendPoint]:
    """One point per UTC day (or ISO week) from the one holding ``since`` to the one holding
    ``until`` (default: now). The open counts are replayed from the transitions, as
    :meth:`FindingStore.open_findings` with ``at`` does: a finding counts in the state its last
    transition before the bucket's end put it in, under its latest severity. The last bucket's end
    may lie ahead of ``until``; its counts are then those so far."""
    _aware(since, until)
    until = until or dt.datetime.now(dt.UTC)
    if until < since:
        raise ValueError(f"until ({until.isoformat()}) is before since ({since.isoformat()})")
    step = dt.timedelta(days=7 if bucket == "week" else 1)
    starts = [bucket_start(since, bucket)]
    while starts[-1] + step <= until:
        starts.append(starts[-1] + step)
    last_end = starts[-1] + step
    with store.engine.connect() as conn:
        cluster_id = _cluster_id(conn, cluster)
        rows: Sequence[Any] = []
        if cluster_id is not None:
            query = (
                select(transitions.c.finding_id, transitions.c.at, transitions.c.change, transitions.c.to_state)
                .add_columns(findings.c.severity)
                .join(findings, findings.c.id == transitions.c.finding_id)
                .where(transitions.c.cluster_id == cluster_id, transitions.c.at < last_end)
                .order_by(transitions.c.at, transitions.c.id)
            )
            rows = conn.execute(query).all()
    states: dict[int, tuple[State, str]] = {}
    points: list[TrendPoint] = []
    index = 0
    for start in starts:
        end = start + step
        opened = resolved = 0
        while index < len(rows) and rows[index].at < end:
            row = rows[index]
            states[row.finding_id] = (State(row.to_state), row.severity)
            if row.at >= start:
                change = Change(row.change)
                opened += change in (Change.OPENED, Change.REOPENED)
                resolved += change is Change.RESOLVED
            index += 1
        counts = dict.fromkeys((s.value for s in Severity), 0)
        excepted = 0
        for state, severity in states.values():
            if state is State.OPEN:
                counts[severity] = counts.get(severity, 0) + 1
            excepted += state is State.EXCEPTED
        points.append(TrendPoint(start, end, counts, excepted, opened, resolved))
    return points


# -- recording object versions ------------------------------------------------------------------


class _Latest(NamedTuple):
    state_id: int
    deleted: bool


def record_objects(
    store: FindingStore,
    cluster: str,
    versions: Iterable[tuple[ObjectKey, RawObject | None]],
    at: dt.datetime,
) -> int:
    """Store the object versions observed at ``at`` (None: the object was deleted), in one
    transaction; returns how many versions were new. A version equal to the object's latest one
    stored at or before ``at`` is not stored again, nor is the deletion of an object never stored
    (or already deleted). The content goes into ``object_states`` as for transitions (once per
    distinct content, Secret values blanked, managedFields left out) and counts as used at ``at``
    for retention; the store's ``retention`` prunes as it does for scans."""
    _aware(at)
    wanted: dict[ObjectKey, RawObject | None] = {}
    for key, raw in versions:
        wanted[key] = raw  # the last word on an object wins
    if not wanted:
        return 0
    snapshots = {key: snapshot(key, raw) for key, raw in wanted.items() if raw is not None}
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            cluster_id = ensure_cluster(conn, cluster, at)
            latest = _latest_versions(conn, cluster_id, list(wanted), at)
            state_ids = store_states(conn, cluster_id, list(snapshots.values()), at)
            rows = []
            for key, raw in wanted.items():
                before = latest.get(key)
                if raw is None:
                    state_id = _last_state(conn, cluster_id, key) if before is None else before.state_id
                    if state_id is None or (before is not None and before.deleted):
                        continue
                    touch_states(conn, [state_id], at)
                    rows.append(_version_row(cluster_id, key, at, None, True, state_id))
                    continue
                shot = snapshots[key]
                state_id = state_ids[shot.content_hash]
                if before is not None and not before.deleted and before.state_id == state_id:
                    continue
                rows.append(_version_row(cluster_id, key, at, shot.resource_version, False, state_id))
            if rows:
                conn.execute(insert(object_versions), rows)
            if store.retention is not None:
                _prune(conn, at - store.retention)
    return len(rows)


def _version_row(
    cluster_id: int, key: ObjectKey, at: dt.datetime, version: str | None, deleted: bool, state_id: int
) -> dict[str, Any]:
    return {
        "cluster_id": cluster_id,
        "kind": key.kind,
        "namespace": key.namespace,
        "name": key.name,
        "at": at,
        "resource_version": version,
        "deleted": deleted,
        "object_state_id": state_id,
    }


def ensure_cluster(conn: Connection, name: str, at: dt.datetime) -> int:
    """The cluster's id, the cluster created if new. Its last scan time is left alone: recording
    objects is not a scan, and must not make a later-arriving scan look stale."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(clusters).values(name=name, created_at=at).on_conflict_do_nothing(index_elements=["name"])
    )
    cluster_id = conn.scalar(select(clusters.c.id).where(clusters.c.name == name))
    assert cluster_id is not None
    return int(cluster_id)


def _latest_versions(
    conn: Connection, cluster_id: int, keys: Sequence[ObjectKey], at: dt.datetime
) -> dict[ObjectKey, _Latest]:
    """Each object's latest stored version at or before ``at``."""
    wanted = set(keys)
    names = sorted({key.name for key in keys})
    latest: dict[ObjectKey, _Latest] = {}
    for chunk in _chunks(names):
        ranked = (
            select(
                object_versions.c.kind,
                object_versions.c.namespace,
                object_versions.c.name,
                object_versions.c.deleted,
                object_versions.c.object_state_id,
                func.row_number()
                .over(
                    partition_by=(object_versions.c.kind, object_versions.c.namespace, object_versions.c.name),
                    order_by=(object_versions.c.at.desc(), object_versions.c.id.desc()),
                )
                .label("n"),
            )
            .where(
                object_versions.c.cluster_id == cluster_id,
                object_versions.c.name.in_(chunk),
                object_versions.c.at <= at,
            )
            .subquery()
        )
        for row in conn.execute(select(ranked).where(ranked.c.n == 1)):
            key = ObjectKey(row.kind, row.namespace, row.name)
            if key in wanted:
                latest[key] = _Latest(row.object_state_id, bool(row.deleted))
    return latest


def _last_state(conn: Connection, cluster_id: int, key: ObjectKey) -> int | None:
    """The most recently used stored state of an object (one behind a transition), if any."""
    namespace = (
        object_states.c.namespace.is_(None) if key.namespace is None else object_states.c.namespace == key.namespace
    )
    query = (
        select(object_states.c.id)
        .where(
            object_states.c.cluster_id == cluster_id,
            object_states.c.kind == key.kind,
            object_states.c.name == key.name,
            namespace,
        )
        .order_by(object_states.c.last_used_at.desc(), object_states.c.id.desc())
        .limit(1)
    )
    found = conn.scalar(query)
    return None if found is None else int(found)


# -- replay -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionSeen:
    """An object version: when the store saw it, and its resourceVersion."""

    at: dt.datetime
    resource_version: str | None


@dataclass(frozen=True, slots=True)
class ReplayFinding:
    """A finding the replayed rules would have produced. ``first_seen``/``last_seen``: the first
    and last replayed moments it fired at; ``fixed_at``: the moment it stopped firing (None when
    it still fired at the end). The versions are its object's at those moments (None for a finding
    about no single object). Severity and message are those of its worst sighting: one finding
    (one fingerprint) can move, e.g. from a latent RBAC grant to a bound one."""

    fingerprint: str
    rule_id: str
    severity: Severity
    state: State  # open, or excepted by an annotation on the object, when first seen
    resource: ResourceRef
    container: str | None
    path: str
    message: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    fixed_at: dt.datetime | None
    first_version: VersionSeen | None
    last_version: VersionSeen | None


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What :func:`replay` found, and how much history it looked at."""

    since: dt.datetime
    until: dt.datetime
    rules: tuple[str, ...]
    findings: list[ReplayFinding]
    versions_in_window: int  # stored object versions observed in [since, until]
    versions_examined: int  # versions evaluated, those already current at ``since`` included
    objects: int  # distinct objects evaluated
    evaluations: int  # distinct moments the rules ran at

    @property
    def note(self) -> str:
        return f"{self.versions_in_window} object versions in the window; objects with no stored state are not seen"


class _Event(NamedTuple):
    at: dt.datetime
    source: int  # 0: behind a transition, 1: recorded by record_objects (wins at the same moment)
    seq: int
    key: ObjectKey
    state_id: int
    resource_version: str | None
    deleted: bool


class _Current(NamedTuple):
    state_id: int
    version: VersionSeen


def replay(
    store: FindingStore,
    cluster: str,
    rules: Sequence[Rule],
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
    config: RuleConfig | None = None,
) -> ReplayResult:
    """Run ``rules`` over ``cluster``'s stored object versions from ``since`` to ``until``
    (default: now), as if they had been deployed then.

    The stored versions are those :func:`record_objects` observed (deletions included) and those
    behind transitions. The rules run first on the objects as they stood at ``since`` (each
    object's latest version at or before it), then again at each moment a version was stored in
    the window, each time over every object's latest version at that moment, so inventory-wide
    rules (RBAC, network policies) see the other objects as they then were. Only stored objects
    are seen: an object never behind a transition nor recorded is absent (say so to the reader,
    :attr:`ReplayResult.note`), and one whose states were pruned is absent for that time.
    Waivers come from annotations on the objects; the exceptions file is not applied."""
    _aware(since, until)
    until = until or dt.datetime.now(dt.UTC)
    if until < since:
        raise ValueError(f"until ({until.isoformat()}) is before since ({since.isoformat()})")
    with store.engine.connect() as conn:
        cluster_id = _cluster_id(conn, cluster)
        events = [] if cluster_id is None else _timeline(conn, cluster_id, until)
        contents = _contents(conn, sorted({e.state_id for e in events if not e.deleted}))
    origin = Origin(f"store:{cluster}")
    resources: dict[int, Resource | None] = {}

    def resource(state_id: int) -> Resource | None:
        if state_id not in resources:
            built = resource_from_raw(contents[state_id], origin) if state_id in contents else None
            resources[state_id] = built if isinstance(built, Resource) else None
        return resources[state_id]

    current: dict[ObjectKey, _Current] = {}
    tracker = _Tracker()
    examined: set[tuple[ObjectKey, int, dt.datetime]] = set()
    seen_objects: set[ObjectKey] = set()
    in_window = evaluations = 0
    for moment, batch in _moments(events, since):
        changed = moment == since  # the window's first moment is always evaluated
        for event in batch:
            before = current.get(event.key)
            if event.deleted:
                changed = changed or before is not None
                current.pop(event.key, None)
            elif before is None or before.state_id != event.state_id:
                # A state seen again behind a later transition is the same version, not a new one.
                current[event.key] = _Current(event.state_id, VersionSeen(event.at, event.resource_version))
                in_window += event.at >= since
                changed = True
        if not changed:
            continue
        live = {
            key: found for key, found in sorted(current.items(), key=_by_key) if resource(found.state_id) is not None
        }
        if not live:
            tracker.fire(moment, {})
            continue
        evaluations += 1
        examined.update((key, found.state_id, found.version.at) for key, found in live.items())
        seen_objects.update(live)
        inventory = Inventory([r for found in live.values() if (r := resource(found.state_id)) is not None])
        result = evaluate(inventory, rules, config=config, today=moment.date(), max_findings_per_rule=0)
        firing = {}
        for finding in result.findings:
            state = state_of(finding)
            if state is not None:
                found = live.get(ObjectKey.of(finding.resource))
                firing[finding.fingerprint] = (finding, state, found.version if found else None)
        tracker.fire(moment, firing)
    return ReplayResult(
        since=since,
        until=until,
        rules=tuple(rule.id for rule in rules),
        findings=tracker.results(),
        versions_in_window=in_window,
        versions_examined=len(examined),
        objects=len(seen_objects),
        evaluations=evaluations,
    )


def _by_key(item: tuple[ObjectKey, Any]) -> tuple[str, str, str]:
    key = item[0]
    return key.kind, key.namespace or "", key.name


def _moments(events: Sequence[_Event], since: dt.datetime) -> Iterator[tuple[dt.datetime, list[_Event]]]:
    """``since`` with every event up to it, then each later moment with its events."""
    index = 0
    while index < len(events) and events[index].at <= since:
        index += 1
    yield since, list(events[:index])
    while index < len(events):
        moment = events[index].at
        batch = []
        while index < len(events) and events[index].at == moment:
            batch.append(events[index])
            index += 1
        yield moment, batch


class _Tracker:
    """First and last sighting of each replayed finding across the moments, in order."""

    def __init__(self) -> None:
        self._found: dict[str, dict[str, Any]] = {}
        self._firing: set[str] = set()

    def fire(self, moment: dt.datetime, firing: Mapping[str, tuple[Any, State, VersionSeen | None]]) -> None:
        for fingerprint in self._firing - set(firing):
            self._found[fingerprint]["fixed_at"] = moment
        for fingerprint, (finding, state, version) in firing.items():
            entry = self._found.get(fingerprint)
            if entry is None:
                entry = self._found[fingerprint] = {
                    "finding": finding,
                    "state": state,
                    "first_seen": moment,
                    "first_version": version,
                }
            entry.update(last_seen=moment, last_version=version, fixed_at=None)
            if finding.severity.rank > entry["finding"].severity.rank:
                entry["finding"] = finding  # a latent grant that became a real one, say
        self._firing = set(firing)

    def results(self) -> list[ReplayFinding]:
        out = []
        for fingerprint, entry in self._found.items():
            worst = entry["finding"]
            out.append(
                ReplayFinding(
                    fingerprint=fingerprint,
                    rule_id=worst.rule_id,
                    severity=worst.severity,
                    state=entry["state"],
                    resource=worst.resource,
                    container=worst.container,
                    path=worst.path,
                    message=worst.message,
                    first_seen=entry["first_seen"],
                    last_seen=entry["last_seen"],
                    fixed_at=entry["fixed_at"],
                    first_version=entry["first_version"],
                    last_version=entry["last_version"],
                )
            )
        out.sort(key=lambda f: (f.first_seen, -f.severity.rank, f.rule_id, f.resource.display, f.path))
        return out


def _timeline(conn: Connection, cluster_id: int, until: dt.datetime) -> list[_Event]:
    """Every stored object version up to ``until``, oldest first: the recorded ones, and the
    states behind transitions (the only ones a store fed by scans alone has)."""
    recorded = select(
        object_versions.c.id,
        object_versions.c.at,
        object_versions.c.kind,
        object_versions.c.namespace,
        object_versions.c.name,
        object_versions.c.resource_version,
        object_versions.c.deleted,
        object_versions.c.object_state_id,
    ).where(object_versions.c.cluster_id == cluster_id, object_versions.c.at <= until)
    behind = (
        select(
            transitions.c.at,
            transitions.c.object_state_id,
            object_states.c.kind,
            object_states.c.namespace,
            object_states.c.name,
            object_states.c.resource_version,
        )
        .distinct()
        .join(object_states, object_states.c.id == transitions.c.object_state_id)
        .where(transitions.c.cluster_id == cluster_id, transitions.c.at <= until)
    )
    events = [
        _Event(
            row.at,
            1,
            row.id,
            ObjectKey(row.kind, row.namespace, row.name),
            row.object_state_id,
            None if row.deleted else row.resource_version,
            bool(row.deleted),
        )
        for row in conn.execute(recorded)
    ]
    events.extend(
        _Event(
            row.at,
            0,
            row.object_state_id,
            ObjectKey(row.kind, row.namespace, row.name),
            row.object_state_id,
            row.resource_version,
            False,
        )
        for row in conn.execute(behind)
    )
    events.sort(key=lambda e: (e.at, e.source, e.seq))
    # A version both recorded and behind a transition is one version.
    seen: set[tuple[dt.datetime, ObjectKey, int, bool]] = set()
    unique = []
    for event in events:
        identity = (event.at, event.key, event.state_id, event.deleted)
        if identity not in seen:
            seen.add(identity)
            unique.append(event)
    return unique


def _contents(conn: Connection, state_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(state_ids):
        query = select(object_states.c.id, object_states.c.content).where(object_states.c.id.in_(chunk))
        out.update({row.id: restore(row.content) for row in conn.execute(query)})
    return out


# -- shared -------------------------------------------------------------------------------------


def _cluster_id(conn: Connection, cluster: str) -> int | None:
    found = conn.scalar(select(clusters.c.id).where(clusters.c.name == cluster))
    return None if found is None else int(found)


def _aware(*moments: dt.datetime | None) -> None:
    for moment in moments:
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"the store needs aware datetimes, got naive {moment.isoformat()}")


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
