"""``stockade node``: a node's key files and kubelet, judged where they live.

    stockade node scan --root /                      # on the node (or in a DaemonSet with / mounted)
    stockade node scan --root /mnt/node-7 --node-name node-7 -f json
    stockade node collect --root / -o /results/$(hostname).json   # for `scan --node-results /results`

`node scan` reads the node (`stockade.sources.node`) and runs the ND (files, kubelet) and CP
(static pod flags) rules over it, with every report format and exit code of `stockade scan`.
`node collect` writes what it read as a snapshot, so many nodes' results merge into one report.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_UNREADABLE, fatal
from stockade.cli.output_options import add_output_options

NODE_RULES = ("ND", "CP", "OB", "AU")


def add_node_parser(sub: Any) -> None:
    from stockade.model.result import FAIL_ON
    from stockade.report import FORMATS

    node = sub.add_parser(
        "node",
        help="check a node's key files and kubelet (CIS sections 1.1, 4.1, 4.2)",
        description="Check the key files of a node (modes and owners, never contents), its kubelet settings and "
        "its static control-plane pods, on the node itself or over its file system mounted elsewhere.",
    )
    commands = node.add_subparsers(dest="node_command", required=True)
    scan = commands.add_parser("scan", help="judge a node's files and kubelet; exit codes as for `stockade scan`")
    collect = commands.add_parser("collect", help="write what a node holds as a snapshot, for `scan --node-results`")
    watch = commands.add_parser(
        "watch",
        help="report every change to the key files as JSON lines (inotify)",
        description="Watch the key files `node scan` checks and print one JSON line per change: writes, mode and "
        "owner changes, renames, deletions, new files, with the state before and after (mode, owner, SHA-256; "
        "never contents). Runs until interrupted.",
    )
    watch.add_argument("-o", "--output", metavar="FILE", help="append events to FILE (created 0600) instead of stdout")
    watch.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: run until stopped)"
    )
    watch.add_argument(
        "--webhook", metavar="URL", help="also POST each change to this URL (Slack-compatible by default)"
    )
    watch.add_argument(
        "--webhook-format", choices=("slack", "json"), default="slack", help="webhook payload (default: slack)"
    )
    for command in (scan, collect, watch):
        command.add_argument("--root", default="/", metavar="DIR", help="the node's root file system (default /)")
        command.add_argument("--node-name", metavar="NAME", help="the node's name (default: this host's name)")
    scan.add_argument(
        "--rules", action="append", default=[], metavar="SEL", help="rules to run (default: ND, CP, OB and AU)"
    )
    scan.add_argument("--framework", action="append", default=[], metavar="ID", help="e.g. cis-1.10")
    scan.add_argument("--fail-on", default="high", choices=FAIL_ON, help="exit 1 at or above (default: high)")
    scan.add_argument("--kubernetes-version", metavar="1.N", help="the kubelet's version, for version defaults")
    scan.add_argument("--no-color", action="store_true", help="plain text output")
    scan.add_argument("--include-passed", action="store_true", help="keep pass results in the report")
    add_output_options(scan, FORMATS, "table", "report format")
    collect.add_argument("-o", "--output", required=True, metavar="FILE", help="snapshot file to write (0600)")


def run_node(args: argparse.Namespace) -> int:
    from stockade.sources.node import NodeSource

    source = NodeSource(args.root, args.node_name)
    if args.node_command == "collect":
        return _collect(source, args.output)
    if args.node_command == "watch":
        return _watch(args.root, source.name, args.output, args.duration, args.webhook, args.webhook_format)
    from stockade.api import ScanOptions, scan
    from stockade.cli.inputs import usage_errors
    from stockade.cli.scan import report_and_exit
    from stockade.rules.base import RuleConfig
    from stockade.sources.component_flags import parse_version

    version = None
    if args.kubernetes_version:
        version = parse_version(args.kubernetes_version)
        if version is None:
            fatal(f"--kubernetes-version: expected a version such as 1.30, found {args.kubernetes_version!r}")
    options = ScanOptions(
        rules=args.rules or NODE_RULES,
        frameworks=args.framework,
        config=RuleConfig(kubernetes_version=version),
        include_passed=args.include_passed,
    )
    with usage_errors():
        result = scan(source, options)
    args.paths = [args.root]
    return report_and_exit(args, result)


def _collect(source: Any, output: str) -> int:
    from stockade.report._summary import clean
    from stockade.report.problems import render_problems
    from stockade.sources.snapshot import write_snapshot

    read = source.collect()
    try:
        write_snapshot(read, output)
    except OSError as exc:
        fatal(clean(f"cannot write {output}: {exc.strerror or exc}"))
    sys.stderr.write(render_problems(read.errors, read.skipped))
    sys.stderr.write(clean(f"stockade: wrote {len(read.resources)} objects of node {source.name} to {output}") + "\n")
    return EXIT_UNREADABLE if read.errors else EXIT_CLEAN


def _watch(
    root: str, node: str, output: str | None, duration: float | None, webhook: str | None, webhook_format: str
) -> int:
    import os
    import signal
    import threading

    from stockade.node.watch import FileEvent, NodeWatcher

    if not os.path.isdir(root):
        fatal(f"--root {root}: not a directory")
    from stockade.watch.sinks import JsonLinesSink

    try:
        lines = JsonLinesSink(output if output is not None else "-", name="node-events")
    except OSError as error:
        fatal(str(error))
    sink = None
    if webhook is not None:
        from stockade.watch.sinks import WebhookSink

        try:
            sink = WebhookSink(webhook, format="json" if webhook_format == "json" else "slack", name="node-webhook")
        except ValueError as error:
            fatal(f"--webhook: {error}")

    def emit(event: FileEvent) -> None:
        lines.send([event])
        if sink is not None:
            sink.send([event])  # queued: a slow webhook never delays the watcher

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if duration is not None:
        threading.Timer(duration, stop.set).start()
    watcher = NodeWatcher(root, node, emit)
    watcher.start()
    sys.stderr.write(f"stockade: watching {len(watcher.directories)} directories of node {node}\n")
    try:
        watcher.run(stop)
    finally:
        if sink is not None:
            sink.close(5.0)
        lines.close()
    return EXIT_CLEAN
