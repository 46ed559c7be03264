"""The store's tests run on both engines: a SQLite file per test, and a fresh schema per test on
the PostgreSQL of 127.0.0.1:5432 (``.ci/run`` starts it). PostgreSQL being down fails the tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import URL

from stockade.store import FindingStore

POSTGRES = URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1", port=5432, database="test")


def _admin() -> sa.Engine:
    engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is unreachable (run .ci/run, which starts it): {error}")
    return engine


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    engine = _admin()
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[URL]:
    """A PostgreSQL URL whose search_path is a schema of its own, dropped afterwards: other
    engineers' runs on the same database never meet ours."""
    schema = f"stockade_test_{secrets.token_hex(6)}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield POSTGRES.update_query_dict({"options": f"-csearch_path={schema}"})
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> URL:
    if request.param == "sqlite":
        return URL.create("sqlite", database=str(tmp_path_factory.mktemp("store") / "history.db"))
    url: URL = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: URL) -> Iterator[FindingStore]:
    with FindingStore.open(store_url.render_as_string(hide_password=False)) as opened:
        yield opened
