"""``stockade history mttr | trend | replay`` through ``main``, on a store built at known times, on
both engines; their exit codes for a bad selection (2) and an unreachable store (3)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL

from stockade.cli import history_cmd
from stockade.cli.history_cmd import parse_time
from stockade.cli.main import main
from stockade.store import FindingStore, ObjectKey
from stockade.store import history as store_history
from tests.helpers import PRIVILEGED_POD, resources_from_yaml
from tests.store.conftest import postgres_admin, postgres_url, store_url  # noqa: F401 - fixtures (both engines)
from tests.store.helpers import excepted, finding, scan

# A whole hour ten days back: every figure below is exact, whatever the time the test runs.
BASE = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=10)
HOUR = dt.timedelta(hours=1)
WEB = ObjectKey("Pod", "shop", "web")


def _url(store_url: URL) -> str:  # noqa: F811 - the fixture's value
    return store_url.render_as_string(hide_password=False)


def _build(url: str) -> None:
    web, api = finding("WL-001", "web"), finding("WL-002", "api")
    [privileged] = resources_from_yaml(PRIVILEGED_POD)
    [fixed] = resources_from_yaml(PRIVILEGED_POD.replace("privileged: true", "privileged: false"))
    with FindingStore.open(url) as store:
        store.record_scan("prod", scan(web, api), BASE)
        store.record_scan("prod", scan(excepted(web), api), BASE + HOUR)
        store.record_scan("prod", scan(web, api), BASE + 2 * HOUR)
        store.record_scan("prod", scan(api), BASE + 5 * HOUR)  # web: open 1 h + 3 h, resolved
        store.record_objects("prod", [(WEB, privileged.raw)], BASE)
        store.record_objects("prod", [(WEB, fixed.raw)], BASE + 24 * HOUR)


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main(["history", *args, "-f", "json"]) == 0
    return capsys.readouterr().out


def test_mttr(store_url: URL, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    url = _url(store_url)
    _build(url)
    out = _json(capsys, "mttr", "--store", url, "--store-cluster", "prod")
    rows = {row["group"]: row for row in map(json.loads, out.splitlines())}
    assert set(rows) == {"WL-001", "WL-002"}
    assert (rows["WL-001"]["resolved"], rows["WL-001"]["mean_seconds"], rows["WL-001"]["still_open"]) == (
        1,
        4 * 3600.0,
        0,
    )
    assert rows["WL-001"]["oldest_open_seconds"] is None
    assert (rows["WL-002"]["resolved"], rows["WL-002"]["still_open"]) == (0, 1)
    assert rows["WL-002"]["oldest_open_seconds"] >= 10 * 24 * 3600  # open since BASE
    [area] = map(
        json.loads, _json(capsys, "mttr", "--store", url, "--store-cluster", "prod", "--by", "area").splitlines()
    )
    assert (area["group"], area["resolved"], area["still_open"]) == ("container-privileges", 1, 1)
    # Since after the resolution: no episode counted, the open one still is.
    since = (BASE + 6 * HOUR).isoformat()
    out = _json(capsys, "mttr", "--store", url, "--store-cluster", "prod", "--since", since)
    assert [json.loads(line)["group"] for line in out.splitlines()] == ["WL-002"]
    assert main(["history", "mttr", "--store", url, "--store-cluster", "prod", "--by", "severity"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["SEVERITY", "RESOLVED", "MEAN"]
    assert "4h 0m" in table and table.endswith("1 resolved, 1 open\n")


def test_trend(store_url: URL, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    url = _url(store_url)
    _build(url)
    args = ["trend", "--store", url, "--store-cluster", "prod", "--since", BASE.isoformat()]
    points = [json.loads(line) for line in _json(capsys, *args, "--until", (BASE + 5 * HOUR).isoformat()).splitlines()]
    day = BASE.replace(hour=0)
    assert [p["start"] for p in points] == [
        (day + dt.timedelta(days=n)).isoformat() for n in range(len(points))
    ]  # one day, or two when BASE + 5 h passes midnight
    assert sum(p["opened"] for p in points) == 3  # web, api, web again when its waiver went
    assert sum(p["resolved"] for p in points) == 1
    assert points[-1]["open"]["high"] == 1 and points[-1]["open_total"] == 1
    week = [json.loads(line) for line in _json(capsys, *args, "--bucket", "week").splitlines()]
    assert all(dt.datetime.fromisoformat(p["start"]).weekday() == 0 for p in week)
    assert main(["history", *args]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == [
        "FROM",
        "CRITICAL",
        "HIGH",
        "MEDIUM",
        "LOW",
        "INFO",
        "EXCEPTED",
        "OPENED",
        "RESOLVED",
    ]


def test_replay(store_url: URL, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:  # noqa: F811
    url = _url(store_url)
    _build(url)
    report = tmp_path / "replay.json"
    args = ["history", "replay", "--store", url, "--store-cluster", "prod", "--rules", "privileged-container"]
    assert main([*args, "--since", "30d", "-f", "json", "-o", str(report)]) == 0
    document = json.loads(report.read_text())
    assert document["rules"] == ["WL-001"]
    assert document["note"] == "2 object versions in the window; objects with no stored state are not seen"
    [found] = document["findings"]
    assert (found["rule"], found["resource"], found["severity"]) == ("WL-001", "Pod/shop/web", "critical")
    assert dt.datetime.fromisoformat(found["first_seen"]) == BASE
    assert dt.datetime.fromisoformat(found["fixed_at"]) == BASE + 24 * HOUR
    assert found["first_version"]["at"] == BASE.isoformat()
    assert main([*args, "--since", "2w", "--until", (BASE + 2 * HOUR).isoformat()]) == 0
    table = capsys.readouterr().out
    assert "Pod/shop/web" in table and "still failing" in table
    assert table.endswith("objects with no stored state are not seen\n")


def test_an_unknown_rule_is_a_usage_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "h.db")
    with pytest.raises(SystemExit) as exited:
        main(["history", "replay", "--store", store, "--rules", "WL-001,XX-999"])
    assert exited.value.code == 2
    assert "'XX-999' is not a rule id" in capsys.readouterr().err
    assert not Path(store).exists()  # checked before the store is opened
    with pytest.raises(SystemExit) as exited:
        main(["history", "trend", "--store", store, "--since", "1d", "--until", "2d"])
    assert exited.value.code == 2
    assert "--until is before --since" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["history", "mttr", "--store", store, "--by", "colour"])
    assert exited.value.code == 2


def test_an_unreachable_store_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["mttr"], ["trend"], ["replay", "--rules", "WL-001"]):
        with pytest.raises(SystemExit) as exited:
            main(["history", *command, "--store", "postgresql://postgres@127.0.0.1:1/test"])
        assert exited.value.code == 3
        assert "cannot open the store at postgresql" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["history", "mttr", "--store", "mysql://db/x"])
    assert exited.value.code == 2  # a URL no store can have: usage


def test_weeks_and_the_vocabulary_the_parser_shares_with_the_store() -> None:
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert parse_time("2w", "--since", now) == dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    assert history_cmd.GROUPINGS == store_history.GROUPINGS
    assert history_cmd.BUCKETS == store_history.BUCKETS
