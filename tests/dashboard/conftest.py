"""The dashboard's tests read one filled store per engine (filling runs a watcher: seconds), on a
SQLite file and on a PostgreSQL schema of their own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from stockade.dashboard.app import DashboardSettings
from stockade.dashboard.server import DashboardServer
from stockade.store import FindingStore
from tests.dashboard.data import Recorded, fill
from tests.store.conftest import POSTGRES, _admin


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def recorded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    tmp_path = tmp_path_factory.mktemp(f"dashboard-{request.param}")
    if request.param == "sqlite":
        yield fill(f"sqlite:///{tmp_path / 'history.db'}", tmp_path)
        return
    admin = _admin()
    schema = f"stockade_dash_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = POSTGRES.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield fill(url.render_as_string(hide_password=False), tmp_path)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(scope="session")
def store(recorded: Recorded) -> Iterator[FindingStore]:
    with FindingStore.open(recorded.url) as opened:
        yield opened


@pytest.fixture(scope="session")
def dashboard(store: FindingStore) -> Iterator[DashboardServer]:
    with DashboardServer(store, DashboardSettings()) as server:
        yield server


def engine_of(url: str) -> sa.Engine:
    return sa.create_engine(url)
