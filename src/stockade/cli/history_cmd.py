"""``stockade history open | changes`` and ``stockade scan --store``: the finding history store
(:mod:`stockade.store`) from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, fatal
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:
    from stockade.model.result import ScanResult
    from stockade.store import FindingStore, StoredFinding, StoredTransition

DEFAULT_STORE_CLUSTER = "default"
_RELATIVE = re.compile(r"(\d+)([smhd])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help="history store: a SQLite file, sqlite:///PATH or postgresql://…; 'default' is a file under the user"
        " data directory",
    )
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
    opened.add_argument("--at", metavar="TIME", help="ISO 8601 time, or an age such as 7d, 12h, 30m")
    opened.add_argument("--include-excepted", action="store_true", help="also the excepted ones")
    changes = commands.add_parser("changes", help="state changes (opened, excepted, resolved, reopened)")
    changes.add_argument("--since", metavar="TIME", help="ISO 8601 time, or an age such as 7d, 12h, 30m")
    for command in (opened, changes):
        add_store_options(command)
        add_output_options(command, ("table", "json"), "table")


def parse_time(text: str, option: str, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 time (UTC when it names no zone) or an age before ``now`` (``7d``, ``12h``)."""
    now = now or dt.datetime.now(dt.UTC)
    relative = _RELATIVE.fullmatch(text.strip())
    if relative is not None:
        return now - dt.timedelta(**{_UNIT[relative.group(2)]: int(relative.group(1))})
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        fatal(f"{option} {text!r} is neither an ISO 8601 time nor an age such as 7d, 12h or 30m")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _store_url(args: argparse.Namespace) -> str | None:
    return None if args.store in (None, "default") else str(args.store)


def open_store(args: argparse.Namespace) -> FindingStore:
    """The store ``--store`` names, opened (and migrated) before a scan starts, so that a wrong URL
    or an unreachable database is said at once, not after a long scan (exit 2)."""
    from stockade.cli.inputs import usage_errors
    from stockade.store import FindingStore

    with usage_errors():
        return FindingStore.open(_store_url(args))


def record_scan(store: FindingStore, args: argparse.Namespace, result: ScanResult) -> None:
    """Record ``result`` into ``store`` and say what changed (stderr)."""
    from stockade.cli.inputs import usage_errors

    with usage_errors():
        summary = store.record_scan(args.store_cluster, result, dt.datetime.now(dt.UTC))
    if summary.ignored:
        sys.stderr.write("stockade: note: the store holds a later scan of this cluster; nothing recorded\n")
        return
    sys.stderr.write(
        f"stockade: recorded in the history store: {summary.opened} opened, {summary.reopened} reopened,"
        f" {summary.excepted} excepted, {summary.resolved} resolved\n"
    )


def run_history(args: argparse.Namespace) -> int:
    from stockade.cli.inputs import usage_errors

    # Times are checked before the store is opened: a typo costs no connection.
    at = parse_time(args.at, "--at") if getattr(args, "at", None) else None
    since = parse_time(args.since, "--since") if getattr(args, "since", None) else None
    with open_store(args) as store, usage_errors():
        if args.history_command == "open":
            found = store.open_findings(args.store_cluster, at, include_excepted=args.include_excepted)
            text = _findings_json(found) if args.format == "json" else _findings_table(found)
        else:
            changes = store.transitions(args.store_cluster, since)
            text = _changes_json(changes) if args.format == "json" else _changes_table(changes)
    write_output(text, args.output)
    return EXIT_CLEAN


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
