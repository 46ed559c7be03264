"""Store URLs, and the embedded SQLite file: private, in WAL mode, with foreign keys enforced."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from stockade.store import FindingStore, StoreError, default_store_path, store_url

from .helpers import at, finding, scan


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@db:5432/k", "postgresql+psycopg://u@db:5432/k"),
        ("postgres://u@db/k", "postgresql+psycopg://u@db/k"),
        ("postgresql+psycopg://u@db/k", "postgresql+psycopg://u@db/k"),
        ("sqlite:////var/lib/stockade/h.db", "sqlite:////var/lib/stockade/h.db"),
        ("/var/lib/stockade/h.db", "sqlite:////var/lib/stockade/h.db"),
    ],
)
def test_store_urls(given: str, expected: str) -> None:
    assert store_url(given).render_as_string() == expected


@pytest.mark.parametrize("given", ["mysql://u@db/k", "postgresql+psycopg2://u@db/k", "sqlite://", "not a url://"])
def test_other_databases_are_refused(given: str) -> None:
    with pytest.raises(StoreError):
        store_url(given)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_store_is_a_private_file_under_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = default_store_path()
    assert path == tmp_path / "data" / "stockade" / "history.db"
    with FindingStore.open() as store:
        store.record_scan("prod", scan(finding()), at(0))
        assert mode(path.parent) == 0o700
        assert mode(tmp_path / "data") == 0o700
        assert mode(path) == 0o600
        wal = path.with_name("history.db-wal")
        assert wal.exists()
        assert mode(wal) == 0o600
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with FindingStore.open() as reopened:
        assert len(reopened.open_findings("prod")) == 1


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with FindingStore.open(str(tmp_path / "h.db")):
        pass
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "h.db") == 0o600


def test_two_stores_on_one_sqlite_file_see_each_other(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    with FindingStore.open(path) as writer, FindingStore.open(path) as reader:
        writer.record_scan("prod", scan(finding()), dt.datetime.now(dt.UTC))
        assert len(reader.open_findings("prod")) == 1


def test_an_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError, match=r"cannot open the store at postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/k"):
        FindingStore.open("postgresql://u:secret@127.0.0.1:1/k?connect_timeout=2")
