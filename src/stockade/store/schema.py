"""The store's tables: one SQLAlchemy Core schema for SQLite and PostgreSQL.

The migrations in ``migrations/versions`` create exactly this schema (a test compares them), so a
change here comes with a new revision there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

# Named constraints, so later migrations can alter them by name on both engines.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

NAME = 253  # a Kubernetes name (DNS subdomain) and the longest kind or apiVersion


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out. SQLite keeps no zone, so it gets naive UTC; naive input is
    refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the store needs aware datetimes, got naive {value.isoformat()}")
        value = value.astimezone(dt.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


clusters = Table(
    "clusters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Scans are recorded in time order; an older one arriving late (a retried batch) is ignored.
    Column("last_scan_at", UTCDateTime),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cluster_id", ForeignKey("clusters.id", ondelete="CASCADE"), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("api_version", String(NAME), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("namespace", String(NAME)),
    Column("name", String(NAME), nullable=False),
    Column("container", String(NAME)),
    Column("path", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    UniqueConstraint("cluster_id", "fingerprint"),
    Index(None, "cluster_id", "state"),
    # The dashboard's findings pages: worst first, then most recently seen, read in index order.
    Index(None, "severity", "last_seen", "id"),
)

object_states = Table(
    "object_states",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cluster_id", ForeignKey("clusters.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("namespace", String(NAME)),
    Column("name", String(NAME), nullable=False),
    Column("resource_version", String(64)),
    Column("content_hash", String(64), nullable=False),  # sha256 of the canonical JSON
    Column("content", LargeBinary, nullable=False),  # zlib-compressed canonical JSON
    Column("stored_at", UTCDateTime, nullable=False),
    # Retention counts from the last transition that pointed here, not from the first capture.
    Column("last_used_at", UTCDateTime, nullable=False),
    UniqueConstraint("cluster_id", "content_hash"),
    Index(None, "last_used_at"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    # Denormalised from findings so "what changed in this cluster since T" is one index range.
    Column("cluster_id", ForeignKey("clusters.id", ondelete="CASCADE"), nullable=False),
    Column("finding_id", ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("change", String(16), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("resource_version", String(64)),
    Column("changed_by", Text),  # a managedFields manager, or the user when known
    Column("waiver_source", Text),
    Column("waiver_reason", Text),
    Column("waiver_expires", Date),
    Column("object_state_id", ForeignKey("object_states.id", ondelete="SET NULL")),
    Index(None, "cluster_id", "at"),
    Index(None, "finding_id", "at"),
    Index(None, "object_state_id"),
)

object_versions = Table(
    "object_versions",
    metadata,
    # Every object version a watcher observed, in time order, for replay. A separate timeline
    # because object_states keeps each content once: an object that goes back to an earlier
    # content, or is deleted, shows only here.
    Column("id", Integer, primary_key=True),
    Column("cluster_id", ForeignKey("clusters.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("namespace", String(NAME)),
    Column("name", String(NAME), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("resource_version", String(64)),
    # True: the object was deleted at ``at``; object_state_id is then its last known state, so
    # the marker is pruned with that state.
    Column("deleted", Boolean, nullable=False),
    Column("object_state_id", ForeignKey("object_states.id", ondelete="CASCADE"), nullable=False),
    Index(None, "cluster_id", "at"),
    Index(None, "cluster_id", "name"),
    Index(None, "object_state_id"),
)

cluster_views = Table(
    "cluster_views",
    metadata,
    # What a full evaluation of a cluster showed beyond its findings (the scorecard, attack paths,
    # the RBAC objects the dashboard's who-can answers from), one row per evaluation recorded. Its
    # findings are in ``findings``; this keeps what cannot be rebuilt from them.
    Column("id", Integer, primary_key=True),
    Column("cluster_id", ForeignKey("clusters.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("content", LargeBinary, nullable=False),  # zlib-compressed JSON (see stockade.views)
    # JSON {area: stage summary}, small and uncompressed: the stage history reads only this.
    Column("stages", Text),
    Index(None, "cluster_id", "at"),
)
