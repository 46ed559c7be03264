"""``stockade history open | changes | mttr | trend | replay`` and ``stockade scan --store``: the
finding history store (:mod:`stockade.store`) from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_UNREADABLE, fatal
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:
    from stockade.model.result import ScanResult
    from stockade.rules.base import Rule
    from stockade.store import FindingStore, StoredFinding, StoredTransition

DEFAULT_STORE_CLUSTER = "default"
_RELATIVE = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# As stockade.store.history has them (a test checks), without importing it to build the parser.
GROUPINGS = ("rule", "area", "namespace", "severity")
BUCKETS = ("day", "week")
_TIME_HELP = "ISO 8601 time, or an age such as 30d, 2w, 12h, 30m"


def add_store_url_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help="history store: a SQLite file, sqlite:///PATH or postgresql://…; 'default' is a file under the user"
        " data directory",
    )


def add_store_options(parser: argparse.ArgumentParser) -> None:
    add_store_url_option(parser)
    parser.add_argument(
        "--store-cluster",
        default=DEFAULT_STORE_CLUSTER,
        metavar="NAME",
        help=f"the cluster the findings belong to in the store (default: {DEFAULT_STORE_CLUSTER})",
    )


def add_history_parser(sub: argparse._SubParsersAction[Any]) -> None:
    history = sub.add_parser(
        "history",
        help="findings kept in the history store (stockade scan --store)",
        description="Read the finding history that `stockade scan --store` records.",
    )
    commands = history.add_subparsers(dest="history_command", required=True, parser_class=type(history))
    opened = commands.add_parser("open", help="findings open now, or at --at")
    opened.add_argument("--at", metavar="TIME", help=_TIME_HELP)
    opened.add_argument("--include-excepted", action="store_true", help="also the excepted ones")
    changes = commands.add_parser("changes", help="state changes (opened, excepted, resolved, reopened)")
    changes.add_argument("--since", metavar="TIME", help=_TIME_HELP)
    for command in (opened, changes, *_add_query_parsers(commands)):
        add_store_options(command)
        add_output_options(command, ("table", "json"), "table")


def _add_query_parsers(commands: argparse._SubParsersAction[Any]) -> list[argparse.ArgumentParser]:
    from stockade.cli.history_views import MTTR_JSON, REPLAY_JSON, TREND_JSON

    raw = argparse.RawDescriptionHelpFormatter
    mttr = commands.add_parser(
        "mttr",
        help="mean and median time to resolve, per rule, area, namespace or severity",
        description=_described(
            "Time to resolve per group: episodes from opened (or reopened) to resolved; time excepted is"
            " not counted. Also the findings still open and their age.",
            MTTR_JSON,
        ),
        formatter_class=raw,
    )
    mttr.add_argument("--by", choices=GROUPINGS, default="rule", help="group by (default: rule)")
    mttr.add_argument("--since", metavar="TIME", help=f"only episodes resolved since: {_TIME_HELP}")
    trend = commands.add_parser(
        "trend",
        help="open findings by severity per day or week, with what opened and resolved",
        description=_described(
            "Open findings by severity at the end of each UTC day or ISO week, replayed from the"
            " transitions, and the findings opened and resolved in it.",
            TREND_JSON,
        ),
        formatter_class=raw,
    )
    trend.add_argument("--since", metavar="TIME", default="30d", help=f"{_TIME_HELP} (default: 30d)")
    trend.add_argument("--until", metavar="TIME", help=f"{_TIME_HELP} (default: now)")
    trend.add_argument("--bucket", choices=BUCKETS, default="day", help="bucket size (default: day)")
    replay = commands.add_parser(
        "replay",
        help="what rules would have flagged over the stored object versions",
        description=_described(
            "Run rules (new or changed) over the object versions the store holds, in time order, each"
            " time over every object as it then stood. Objects the store never kept a state of are not seen.",
            REPLAY_JSON,
        ),
        formatter_class=raw,
    )
    replay.add_argument(
        "--rules",
        action="append",
        required=True,
        metavar="SEL",
        help="rule ids, names, families or areas (comma-separated, repeatable)",
    )
    replay.add_argument("--since", metavar="TIME", default="30d", help=f"{_TIME_HELP} (default: 30d)")
    replay.add_argument("--until", metavar="TIME", help=f"{_TIME_HELP} (default: now)")
    return [mttr, trend, replay]


def _described(summary: str, json_shape: str) -> str:
    import textwrap

    return textwrap.fill(summary, 79) + "\n\n" + json_shape


def parse_time(text: str, option: str, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 time (UTC when it names no zone) or an age before ``now`` (``2w``, ``7d``, ``12h``)."""
    now = now or dt.datetime.now(dt.UTC)
    relative = _RELATIVE.fullmatch(text.strip())
    if relative is not None:
        return now - dt.timedelta(**{_UNIT[relative.group(2)]: int(relative.group(1))})
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        fatal(f"{option} {text!r} is neither an ISO 8601 time nor an age such as 30d, 2w, 12h or 30m")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def store_url_of(args: argparse.Namespace) -> str | None:
    """The store URL `--store` names (None: the default SQLite file)."""
    return None if args.store in (None, "default") else str(args.store)


def open_store(args: argparse.Namespace) -> FindingStore:
    """The store ``--store`` names, opened (and migrated) before a scan starts, so that a wrong URL
    or an unreachable database is said at once, not after a long scan (exit 2)."""
    from stockade.cli.inputs import usage_errors
    from stockade.store import FindingStore

    with usage_errors():
        return FindingStore.open(store_url_of(args))


def record_scan(store: FindingStore, args: argparse.Namespace, result: ScanResult) -> None:
    """Record ``result`` into ``store`` and say what changed (stderr)."""
    from stockade.cli.inputs import usage_errors
    from stockade.views import record_view

    now = dt.datetime.now(dt.UTC)
    with usage_errors():
        summary = store.record_scan(args.store_cluster, result, now)
        if not summary.ignored:
            record_view(store, args.store_cluster, result, now)
    if summary.ignored:
        sys.stderr.write("stockade: note: the store holds a later scan of this cluster; nothing recorded\n")
        return
    sys.stderr.write(
        f"stockade: recorded in the history store: {summary.opened} opened, {summary.reopened} reopened,"
        f" {summary.excepted} excepted, {summary.resolved} resolved\n"
    )


def run_history(args: argparse.Namespace) -> int:
    from stockade.cli.inputs import usage_errors

    # Times and rules are checked before the store is opened: a typo costs no connection.
    at = parse_time(args.at, "--at") if getattr(args, "at", None) else None
    since = parse_time(args.since, "--since") if getattr(args, "since", None) else None
    if args.history_command in ("mttr", "trend", "replay"):
        return _run_query(args, since)
    with open_store(args) as store, usage_errors():
        if args.history_command == "open":
            found = store.open_findings(args.store_cluster, at, include_excepted=args.include_excepted)
            text = _findings_json(found) if args.format == "json" else _findings_table(found)
        else:
            changes = store.transitions(args.store_cluster, since)
            text = _changes_json(changes) if args.format == "json" else _changes_table(changes)
    write_output(text, args.output)
    return EXIT_CLEAN


def _run_query(args: argparse.Namespace, since: dt.datetime | None) -> int:
    """mttr, trend and replay. A store that cannot be reached, or fails mid-query, exits 3."""
    from sqlalchemy.exc import SQLAlchemyError

    from stockade.cli import history_views as views
    from stockade.store import history

    until = parse_time(args.until, "--until") if getattr(args, "until", None) else None
    if since is not None and until is not None and until < since:
        fatal("--until is before --since")
    rules = _replay_rules(args) if args.history_command == "replay" else []
    with _open_history_store(args) as store:
        try:
            if args.history_command == "mttr":
                rows = history.mttr(store, args.store_cluster, by=args.by, since=since)
                text = views.mttr_json(rows) if args.format == "json" else views.mttr_table(rows, args.by)
            elif args.history_command == "trend":
                assert since is not None  # it has a default
                points = history.trend(store, args.store_cluster, since=since, until=until, bucket=args.bucket)
                text = views.trend_json(points) if args.format == "json" else views.trend_table(points)
            else:
                assert since is not None
                result = history.replay(store, args.store_cluster, rules, since=since, until=until)
                text = views.replay_json(result) if args.format == "json" else views.replay_table(result)
        except SQLAlchemyError as error:
            fatal(f"the store failed: {type(error).__name__}: {getattr(error, 'orig', None) or error}", EXIT_UNREADABLE)
    write_output(text, args.output)
    return EXIT_CLEAN


def _replay_rules(args: argparse.Namespace) -> list[Rule]:
    from stockade.api import ScanOptions, select
    from stockade.cli.inputs import listed_option, usage_errors

    with usage_errors():
        return select(ScanOptions(rules=listed_option("--rules", args.rules)))


def _open_history_store(args: argparse.Namespace) -> FindingStore:
    """The store for a query: a malformed URL is a usage error (2), one that cannot be opened
    (unreachable, refused, not a database) exit 3, as an unreadable input."""
    from stockade.cli.inputs import usage_errors
    from stockade.store import FindingStore, StoreError, store_url

    with usage_errors():
        store_url(store_url_of(args))
    try:
        return FindingStore.open(store_url_of(args))
    except StoreError as error:
        fatal(str(error), EXIT_UNREADABLE)


def _findings_json(found: list[StoredFinding]) -> str:
    return "".join(
        json.dumps(
            {
                "fingerprint": f.fingerprint,
                "rule": f.rule_id,
                "severity": f.severity.value,
                "state": f.state.value,
                "resource": f.resource.display,
                "container": f.container,
                "path": f.path,
                "message": f.message,
                "first_seen": f.first_seen.isoformat(),
                "last_seen": f.last_seen.isoformat(),
            }
        )
        + "\n"
        for f in found
    )


def _changes_json(changes: list[StoredTransition]) -> str:
    return "".join(
        json.dumps(
            {
                "at": t.at.isoformat(),
                "change": t.change.value,
                "from": t.from_state.value if t.from_state else None,
                "to": t.to_state.value,
                "rule": t.rule_id,
                "resource": t.resource.display,
                "fingerprint": t.fingerprint,
                "changed_by": t.changed_by,
                "waiver": t.waiver.reason if t.waiver else None,
            }
        )
        + "\n"
        for t in changes
    )


def _findings_table(found: list[StoredFinding]) -> str:
    from stockade.report._table import table_lines

    rows = [
        (f.rule_id, f.severity.value, f.state.value, f.resource.display, f.first_seen.strftime("%Y-%m-%d %H:%M"))
        for f in found
    ]
    lines = table_lines(("RULE", "SEVERITY", "STATE", "OBJECT", "FIRST SEEN"), rows)
    return "".join(line + "\n" for line in lines) + f"{len(found)} findings\n"


def _changes_table(changes: list[StoredTransition]) -> str:
    from stockade.report._table import table_lines

    rows = [(t.at.strftime("%Y-%m-%d %H:%M:%S"), t.change.value, t.rule_id, t.resource.display) for t in changes]
    lines = table_lines(("AT", "CHANGE", "RULE", "OBJECT"), rows)
    return "".join(line + "\n" for line in lines) + f"{len(changes)} changes\n"
