"""The shipped Alembic revisions build, on both engines, exactly the schema the code declares."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL

from stockade.store import FindingStore, create_store_engine
from stockade.store.migrate import MIGRATIONS, upgrade
from stockade.store.schema import metadata

TABLES = {"alembic_version", "cluster_views", "clusters", "findings", "object_states", "object_versions", "transitions"}


def test_upgrade_from_empty_matches_the_metadata(store_url: URL) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
        upgrade(engine)
        upgrade(engine)  # already current: nothing to do
        with engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) == TABLES
            head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_upgrade_from_0001_keeps_the_history(store_url: URL) -> None:
    """A store made by the first release gains the object-version timeline and keeps its findings."""
    from .helpers import at, finding, scan

    url = store_url.render_as_string(hide_password=False)
    engine = create_store_engine(store_url)
    try:
        upgrade(engine, "0001")
        with engine.connect() as conn:
            assert "object_versions" not in sa.inspect(conn).get_table_names()
        FindingStore(engine).record_scan("prod", scan(finding()), at(0))
    finally:
        engine.dispose()
    with FindingStore.open(url) as store:  # open() migrates to head
        assert [f.rule_id for f in store.open_findings("prod")] == ["WL-001"]
        with store.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) == TABLES
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
