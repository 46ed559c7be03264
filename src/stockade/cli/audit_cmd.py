"""``stockade audit scan``: detections over the API server's audit log.

    stockade audit scan /var/log/kubernetes/audit/            # the log and its rotated files, oldest first
    stockade audit scan audit.log.gz --break-glass admin@example.com -f json
    kubectl logs … | stockade audit scan -

Exit codes: 0 nothing detected, 1 some detection, 2 usage error, 3 some line could not be read
(the rest was still read and judged).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.output_options import add_output_options, write_output


def add_audit_parser(sub: Any) -> None:
    audit = sub.add_parser(
        "audit",
        help="detections over the API server's audit log",
        description="Read audit.k8s.io Events (JSON lines, rotated and gzip files, stdin) and report what "
        "attackers and mistakes look like: exec into pods, Secret reads, system:masters and break-glass use, "
        "anonymous access, privileged pods, RBAC grants, impersonation, token and certificate requests, "
        "webhook changes, deleted events, repeated denials, requests from outside the allowed networks.",
    )
    commands = audit.add_subparsers(dest="audit_command", required=True)
    scan = commands.add_parser("scan", help="report detections in audit log files or stdin")
    scan.add_argument("logs", nargs="+", metavar="PATH", help="audit log files or directories; '-' reads stdin")
    scan.add_argument(
        "--break-glass", action="append", default=[], metavar="USER", help="an identity whose every action is reported"
    )
    scan.add_argument(
        "--allowed-network", action="append", default=[], metavar="CIDR", help="requests from elsewhere are reported"
    )
    scan.add_argument(
        "--detections", action="append", default=[], metavar="FILE", help="your own detections: CEL over `event` (YAML)"
    )
    add_output_options(scan, ("table", "json"), "table")
    trail = commands.add_parser(
        "trail",
        help="every action of break-glass and system:masters identities, in order, for an incident ticket",
    )
    trail.add_argument("logs", nargs="+", metavar="PATH", help="audit log files or directories; '-' reads stdin")
    trail.add_argument(
        "--identity", action="append", default=[], metavar="USER", help="a break-glass identity (repeatable)"
    )
    trail.add_argument(
        "--no-masters", action="store_true", help="leave out other members of system:masters (default: include them)"
    )
    trail.add_argument(
        "--since", metavar="TIME", help="only actions from TIME on (RFC 3339, e.g. 2026-12-05T10:00:00Z)"
    )
    add_output_options(trail, ("markdown", "html", "json"), "markdown")


def run_audit(args: argparse.Namespace) -> int:
    if args.audit_command == "trail":
        return _trail(args)
    import orjson

    from stockade.audit.detections import AuditConfig, Detector
    from stockade.audit.read import ReadProblem, read_events
    from stockade.model.text import visible

    networks = []
    for text in args.allowed_network:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            fatal(f"--allowed-network {text!r} is not a CIDR")
    from stockade.audit.detections import CATALOGUE
    from stockade.audit.user_rules import DetectionsFileError, load_detections

    taken = {info.id for info in CATALOGUE}
    try:
        extra = [d for path in args.detections for d in load_detections(path, taken)]
    except DetectionsFileError as error:
        fatal(str(error))
    config = AuditConfig(break_glass=frozenset(args.break_glass), networks=tuple(networks))
    detector = Detector(config, extra)
    problems: list[ReadProblem] = []
    found = [d.evidence() for d in detector.run(read_events(args.logs, problems, sys.stdin.buffer))]
    if args.format == "json":
        document = {"events": detector.events, "detections": found, "problems": [str(p) for p in problems]}
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        lines = [f"{d['severity']:<8} {d['id']}  {d['time']}  {d['detail']}  [auditID {d['auditID']}]" for d in found]
        lines.append(f"{len(found)} detections in {detector.events} events.")
        text = "\n".join(visible(line) for line in lines) + "\n"
    write_output(text, args.output)
    for problem in problems:
        sys.stderr.write(f"stockade: {visible(str(problem))}\n")
    if problems:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if found else EXIT_CLEAN


def _trail(args: argparse.Namespace) -> int:
    import datetime as dt

    import orjson

    from stockade.audit.read import ReadProblem, read_events
    from stockade.audit.trail import render_html, render_markdown, trail
    from stockade.model.text import visible

    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            fatal(f"--since {args.since!r} is not an RFC 3339 time")
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
    if not args.identity and args.no_masters:
        fatal("--no-masters needs at least one --identity")
    problems: list[ReadProblem] = []
    events = read_events(args.logs, problems, sys.stdin.buffer)
    entries = list(trail(events, args.identity, masters=not args.no_masters, since=since))
    who = ", ".join(args.identity) or "system:masters"
    title = f"Break-glass trail: {who}"
    if args.format == "json":
        text = orjson.dumps({"title": title, "actions": [e.to_json() for e in entries]}, option=orjson.OPT_INDENT_2)
        write_output(text.decode() + "\n", args.output)
    else:
        write_output((render_html if args.format == "html" else render_markdown)(entries, title), args.output)
    for problem in problems:
        sys.stderr.write(f"stockade: {visible(str(problem))}\n")
    return EXIT_UNREADABLE if problems else EXIT_CLEAN
