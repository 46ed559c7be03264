"""Bringing a database's schema up to date with the Alembic revisions shipped in ``migrations/``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from stockade.store.engine import WRITE

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant: processes opening one PostgreSQL store at once upgrade it one at a time.
_PG_MIGRATION_LOCK = 0x5354_4B44


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration for the shipped revisions, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every revision up to ``revision``, in one transaction (DDL is transactional on both engines)."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(connection), revision)
