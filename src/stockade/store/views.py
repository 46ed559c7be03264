"""Stored cluster views: what a full evaluation showed beyond its findings, one row per evaluation.

The content is a JSON mapping built by :mod:`stockade.views` (the scorecard, attack paths, the RBAC
objects); the store keeps it compressed and does not read inside it. Beside it, a small mapping of
each area's stage, which :func:`stage_history` reads without opening the content. A store with
``retention`` drops older views as it prunes object states, keeping each cluster's latest.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Select, and_, delete, func, insert, select

from stockade.store.engine import WRITE
from stockade.store.history import ensure_cluster
from stockade.store.schema import cluster_views, clusters

if TYPE_CHECKING:
    from stockade.store.store import FindingStore


def record_view(
    store: FindingStore,
    cluster: str,
    content: Mapping[str, Any],
    at: dt.datetime,
    stages: Mapping[str, str] | None = None,
) -> None:
    if at.tzinfo is None:
        raise ValueError(f"the store needs aware datetimes, got naive {at.isoformat()}")
    packed = zlib.compress(orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS))
    summary = orjson.dumps(dict(stages)).decode() if stages is not None else None
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            cluster_id = ensure_cluster(conn, cluster, at)
            conn.execute(insert(cluster_views).values(cluster_id=cluster_id, at=at, content=packed, stages=summary))
            if store.retention is not None:
                keep = select(func.max(cluster_views.c.id)).group_by(cluster_views.c.cluster_id)
                conn.execute(
                    delete(cluster_views).where(
                        and_(cluster_views.c.at < at - store.retention, cluster_views.c.id.not_in(keep))
                    )
                )


def _latest(cluster: str, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .join(clusters, clusters.c.id == cluster_views.c.cluster_id)
        .where(clusters.c.name == cluster)
        .order_by(cluster_views.c.at.desc(), cluster_views.c.id.desc())
        .limit(1)
    )


def latest_view_id(store: FindingStore, cluster: str) -> int | None:
    """The id of the cluster's most recent view (cheap: no content read), or None."""
    with store.engine.connect() as conn:
        found = conn.scalar(_latest(cluster, cluster_views.c.id))
    return None if found is None else int(found)


def latest_view(store: FindingStore, cluster: str) -> tuple[dt.datetime, dict[str, Any]] | None:
    """The cluster's most recent view and when it was recorded, or None when none was."""
    with store.engine.connect() as conn:
        row = conn.execute(_latest(cluster, cluster_views.c.at, cluster_views.c.content)).first()
    if row is None:
        return None
    content = orjson.loads(zlib.decompress(row.content))
    assert isinstance(content, dict)
    return row.at, content


def stage_history(store: FindingStore, cluster: str, limit: int = 200) -> list[tuple[dt.datetime, dict[str, str]]]:
    """The stage summaries of the cluster's ``limit`` most recent views that carry one, oldest first."""
    query = (
        select(cluster_views.c.at, cluster_views.c.stages)
        .join(clusters, clusters.c.id == cluster_views.c.cluster_id)
        .where(clusters.c.name == cluster, cluster_views.c.stages.is_not(None))
        .order_by(cluster_views.c.at.desc(), cluster_views.c.id.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    history = []
    for row in reversed(rows):
        stages = orjson.loads(row.stages)
        if isinstance(stages, dict):
            history.append((row.at, {str(k): str(v) for k, v in stages.items()}))
    return history
