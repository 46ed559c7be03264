"""How ``stockade history mttr | trend | replay`` print their answers: aligned tables, or JSON whose
shape the ``*_JSON`` texts document (they are the commands' help)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stockade.store.history import MttrRow, ReplayFinding, ReplayResult, TrendPoint, VersionSeen

MTTR_JSON = """\
-f json: one JSON object per line, one per group:
  {"group": "WL-001", "resolved": 3, "mean_seconds": 2600.0, "median_seconds": 2400.0,
   "still_open": 1, "oldest_open_seconds": 12000.0, "median_open_seconds": 12000.0}
  (the *_seconds are null when there is nothing to measure)"""

TREND_JSON = """\
-f json: one JSON object per line, one per bucket [start, end):
  {"start": "2025-03-01T00:00:00+00:00", "end": "2025-03-02T00:00:00+00:00",
   "open": {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 0}, "open_total": 2,
   "excepted": 0, "opened": 2, "resolved": 0}
  (open and excepted as of the bucket's end; opened counts opened and reopened)"""

REPLAY_JSON = """\
-f json: one JSON document:
  {"since": TIME, "until": TIME, "rules": ["WL-001"], "versions_in_window": 2,
   "versions_examined": 2, "objects": 1, "evaluations": 2, "note": "...",
   "findings": [{"rule": "WL-001", "severity": "critical", "state": "open",
                 "resource": "Pod/shop/web", "container": "web", "path": "...", "message": "...",
                 "fingerprint": "...", "first_seen": TIME, "last_seen": TIME, "fixed_at": TIME|null,
                 "first_version": {"at": TIME, "resource_version": "1"}|null,
                 "last_version": {...}|null}]}"""


def duration(value: dt.timedelta | None) -> str:
    """``3d 4h``, ``5h 12m``, ``42m``, ``30s``: the two largest units, for tables."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def _seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _lines(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item) + "\n" for item in objects)


def _table(headers: tuple[str, ...], rows: Sequence[Sequence[str]]) -> str:
    from stockade.report._table import table_lines

    return "".join(line + "\n" for line in table_lines(headers, rows))


def mttr_json(rows: list[MttrRow]) -> str:
    return _lines(
        [
            {
                "group": r.group,
                "resolved": r.resolved,
                "mean_seconds": _seconds(r.mean),
                "median_seconds": _seconds(r.median),
                "still_open": r.still_open,
                "oldest_open_seconds": _seconds(r.oldest_open),
                "median_open_seconds": _seconds(r.median_open),
            }
            for r in rows
        ]
    )


def mttr_table(rows: list[MttrRow], by: str) -> str:
    body = [
        (
            r.group,
            str(r.resolved),
            duration(r.mean),
            duration(r.median),
            str(r.still_open),
            duration(r.oldest_open),
        )
        for r in rows
    ]
    headers = (by.upper(), "RESOLVED", "MEAN", "MEDIAN", "STILL OPEN", "OLDEST OPEN")
    return _table(headers, body) + f"{sum(r.resolved for r in rows)} resolved, {sum(r.still_open for r in rows)} open\n"


def trend_json(points: list[TrendPoint]) -> str:
    return _lines(
        [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "open": dict(p.open),
                "open_total": p.open_total,
                "excepted": p.excepted,
                "opened": p.opened,
                "resolved": p.resolved,
            }
            for p in points
        ]
    )


def trend_table(points: list[TrendPoint]) -> str:
    severities = list(points[0].open) if points else []
    headers = ("FROM", *(s.upper() for s in severities), "EXCEPTED", "OPENED", "RESOLVED")
    body = [
        (
            p.start.strftime("%Y-%m-%d"),
            *(str(p.open[s]) for s in severities),
            str(p.excepted),
            str(p.opened),
            str(p.resolved),
        )
        for p in points
    ]
    return _table(headers, body)


def _version(version: VersionSeen | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"at": version.at.isoformat(), "resource_version": version.resource_version}


def _replay_finding(f: ReplayFinding) -> dict[str, Any]:
    return {
        "rule": f.rule_id,
        "severity": f.severity.value,
        "state": f.state.value,
        "resource": f.resource.display,
        "container": f.container,
        "path": f.path,
        "message": f.message,
        "fingerprint": f.fingerprint,
        "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(),
        "fixed_at": _time(f.fixed_at),
        "first_version": _version(f.first_version),
        "last_version": _version(f.last_version),
    }


def replay_json(result: ReplayResult) -> str:
    document = {
        "since": result.since.isoformat(),
        "until": result.until.isoformat(),
        "rules": list(result.rules),
        "versions_in_window": result.versions_in_window,
        "versions_examined": result.versions_examined,
        "objects": result.objects,
        "evaluations": result.evaluations,
        "note": result.note,
        "findings": [_replay_finding(f) for f in result.findings],
    }
    return json.dumps(document, indent=2) + "\n"


def replay_table(result: ReplayResult) -> str:
    def when(value: dt.datetime | None) -> str:
        return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")

    body = [
        (
            f.rule_id,
            f.severity.value,
            f.resource.display,
            f.first_version.resource_version or "-" if f.first_version else "-",
            when(f.first_seen),
            when(f.last_seen),
            when(f.fixed_at) if f.fixed_at else "still failing",
        )
        for f in result.findings
    ]
    table = _table(("RULE", "SEVERITY", "OBJECT", "VERSION", "FIRST SEEN", "LAST SEEN", "FIXED"), body)
    return table + (
        f"{len(result.findings)} findings over {result.evaluations} moments, {result.objects} objects\n{result.note}\n"
    )
