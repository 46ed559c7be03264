"""Opening the store's database: a URL (or nothing, for the embedded SQLite file) → an Engine.

``postgresql://…`` means psycopg 3 (``postgresql+psycopg://``); ``sqlite:///path`` or a bare path
is a SQLite file, created 0600 in a 0700 directory, in WAL mode with foreign keys enforced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from stockade.store.errors import StoreError

# Seconds a SQLite writer waits for another writer (a watcher and a scan sharing the file).
SQLITE_BUSY_TIMEOUT = 30
# Execution option: this transaction will write, so on SQLite it takes the write lock up front.
WRITE = "stockade_write"

_POSTGRES_NAMES = {"postgres", "postgresql", "postgresql+psycopg"}
_SQLITE_NAMES = {"sqlite", "sqlite+pysqlite"}


def default_store_path() -> Path:
    """``history.db`` under the user's data directory (``$XDG_DATA_HOME/stockade`` on Linux)."""
    return Path(platformdirs.user_data_dir("stockade", appauthor=False)) / "history.db"


def store_url(url: str | URL | None = None) -> URL:
    """The SQLAlchemy URL for ``url``: the default SQLite file when None, a SQLite file for a bare
    path, psycopg 3 for any ``postgresql://``. Other databases and drivers are refused."""
    if url is None:
        return URL.create("sqlite", database=str(default_store_path()))
    if isinstance(url, str) and "://" not in url:
        return URL.create("sqlite", database=url)
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"malformed store URL: {error}") from None
    if parsed.drivername in _POSTGRES_NAMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in _SQLITE_NAMES:
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError("a SQLite store needs a file path (sqlite:///path/to/history.db)")
        return parsed
    raise StoreError(
        f"unsupported store URL scheme {parsed.drivername!r}: use sqlite:///path or postgresql://user@host/db"
    )


def create_store_engine(url: str | URL | None = None) -> Engine:
    """An Engine for the store at ``url`` (see :func:`store_url`), its SQLite file created if needed."""
    resolved = store_url(url)
    if resolved.get_backend_name() == "sqlite":
        assert resolved.database is not None
        _create_private_file(Path(resolved.database))
        engine = create_engine(resolved, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(resolved, pool_pre_ping=True)
    except ModuleNotFoundError as error:
        raise StoreError(f"a PostgreSQL store needs psycopg 3 ({error}): pip install 'stockade[postgres]'") from None


def _create_private_file(path: Path) -> None:
    """The history names every weakness of a cluster: only its owner may read it. SQLite gives its
    -wal and -shm files the database file's mode."""
    path = path.expanduser()
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below): pysqlite's implicit one starts too late for reads.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer locks at BEGIN, so two writers queue instead of one failing on lock upgrade.
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
