"""`stockade scan --store` records a scan into the history store; `stockade history` reads it back."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from stockade.cli.history_cmd import parse_time
from stockade.cli.main import main
from tests.helpers import PRIVILEGED_POD


def _scan(capsys: pytest.CaptureFixture[str], manifest: Path, store: Path, *extra: str) -> str:
    code = main(["scan", str(manifest), "--no-progress", "--rules", "WL-001", "--store", str(store), *extra])
    assert code in (0, 1)
    return capsys.readouterr().err


def _history(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["history", *args, "-f", "json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_finding_is_opened_then_resolved_across_two_scans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, store = tmp_path / "pod.yaml", tmp_path / "history.db"
    manifest.write_text(PRIVILEGED_POD)
    assert "1 opened, 0 reopened, 0 excepted, 0 resolved" in _scan(capsys, manifest, store)
    assert "0 opened, 0 reopened, 0 excepted, 0 resolved" in _scan(capsys, manifest, store)  # nothing new
    opened = _history(capsys, "open", "--store", str(store))
    assert [(f["rule"], f["resource"], f["state"]) for f in opened] == [("WL-001", "Pod/shop/web", "open")]

    manifest.write_text(PRIVILEGED_POD.replace("privileged: true", "privileged: false"))
    assert "0 opened, 0 reopened, 0 excepted, 1 resolved" in _scan(capsys, manifest, store)
    assert _history(capsys, "open", "--store", str(store)) == []
    changes = _history(capsys, "changes", "--store", str(store), "--since", "1h")
    assert [(c["change"], c["rule"]) for c in changes] == [("opened", "WL-001"), ("resolved", "WL-001")]
    # Asked as of a moment before the fix, the finding was open.
    before = changes[1]["at"]
    assert isinstance(before, str)
    moment = (dt.datetime.fromisoformat(before) - dt.timedelta(microseconds=1)).isoformat()
    assert len(_history(capsys, "open", "--store", str(store), "--at", moment)) == 1
    assert os.stat(store).st_mode & 0o777 == 0o600


def test_clusters_are_kept_apart_and_the_table_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, store = tmp_path / "pod.yaml", tmp_path / "history.db"
    manifest.write_text(PRIVILEGED_POD)
    _scan(capsys, manifest, store, "--store-cluster", "prod")
    assert _history(capsys, "open", "--store", str(store), "--store-cluster", "staging") == []
    assert main(["history", "open", "--store", str(store), "--store-cluster", "prod"]) == 0
    table = capsys.readouterr().out
    assert "Pod/shop/web" in table and table.endswith("1 findings\n")


def test_bad_times_and_stores_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["history", "changes", "--store", str(tmp_path / "h.db"), "--since", "last tuesday"])
    assert exited.value.code == 2
    assert "neither an ISO 8601 time nor an age" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["history", "open", "--store", "mysql://db/x"])
    assert exited.value.code == 2
    assert "stockade: error:" in capsys.readouterr().err


def test_ages_and_times() -> None:
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert parse_time("7d", "--since", now) == dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    assert parse_time("90m", "--since", now) == dt.datetime(2026, 12, 4, 10, 30, tzinfo=dt.UTC)
    assert parse_time("2026-12-01T00:00:00", "--since", now) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
