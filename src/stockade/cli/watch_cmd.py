"""``stockade watch``: keep a cluster's findings current in the history store, in real time."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import add_cluster_options, add_namespace_flags, add_pod_template_option


def add_watch_parser(sub: argparse._SubParsersAction[Any]) -> None:
    from stockade.cli.history_cmd import add_store_options

    watch = sub.add_parser(
        "watch",
        help="watch a live cluster and keep every finding's history",
        description=(
            "List and watch a live cluster; judge each change as it happens; record every finding"
            " transition (opened, excepted, resolved, reopened) in the history store; tell people"
            " and tools (JSON lines, a webhook, PolicyReports, Prometheus metrics). Runs until"
            " interrupted (or --duration)."
        ),
    )
    cluster = watch.add_argument_group("cluster")
    add_cluster_options(
        cluster,
        verb="watch",
        kinds_help="watch these kinds only, kubectl style (default: every kind the selected rules read)",
        namespaces_help="watch namespaced kinds in these namespaces only; cluster-scoped kinds are then not watched",
    )
    add_namespace_flags(
        cluster,
        namespace_help="watch this namespace only, as kubectl -n (repeatable; same as --namespaces)",
        all_help="watch every namespace (the default), as kubectl -A",
        repeatable=True,
    )
    add_pod_template_option(cluster)
    rules = watch.add_argument_group("rules")
    rules.add_argument("--rules", action="append", default=[], metavar="SEL", help="only these rules (as for scan)")
    rules.add_argument("--skip-rules", action="append", default=[], metavar="SEL", help="leave out these rules")
    rules.add_argument("--exceptions", metavar="FILE", help="exceptions file (as for scan)")
    rules.add_argument(
        "--policies", action="append", default=[], metavar="PATH", help="user policies, rules POL-<name> (as for scan)"
    )
    rules.add_argument("--allowed-registries", metavar="LIST", help="comma-separated registries images may come from")
    store = watch.add_argument_group("history store")
    add_store_options(store)
    store.add_argument(
        "--retention", metavar="DAYS", type=_positive_int, help="keep object states this many days (default: all)"
    )
    store.add_argument(
        "--object-history",
        action="store_true",
        help="also keep every object version the watch sees, for `history replay` (the states behind"
        " transitions are always kept); costs store throughput under heavy churn",
    )
    store.add_argument(
        "--view-interval",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="record the cluster view the dashboard shows (scorecard, attack paths, RBAC) at most this often when"
        " findings changed (default: 600; 0: never)",
    )
    tell = watch.add_argument_group("telling people and tools")
    tell.add_argument(
        "--events", metavar="FILE", help="write one JSON line per transition to FILE ('-': standard output)"
    )
    tell.add_argument("--webhook", metavar="URL", help="POST transitions to this URL (Slack-compatible by default)")
    tell.add_argument(
        "--webhook-format", choices=("slack", "json"), default="slack", help="webhook payload (default: slack)"
    )
    tell.add_argument(
        "--policy-reports",
        action="store_true",
        help="write PolicyReport/ClusterPolicyReport objects (wgpolicyk8s.io/v1alpha2) back to the cluster",
    )
    tell.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        help="serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:9090; 0.0.0.0 only when asked)",
    )
    run = watch.add_argument_group("running")
    run.add_argument(
        "--leader-elect",
        action="store_true",
        help="elect one writer through a coordination.k8s.io Lease (several replicas; standbys keep warm)",
    )
    run.add_argument("--lease-name", default="stockade-watch", metavar="NAME", help="(default: stockade-watch)")
    run.add_argument("--lease-namespace", default="stockade", metavar="NAMESPACE", help="(default: stockade)")
    run.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: run until interrupted)"
    )
    run.add_argument("--quiet", action="store_true", help="only warnings and errors on stderr")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _split(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def run_watch(args: argparse.Namespace) -> int:
    """Set everything up (usage problems exit 2 before anything runs), then watch until stopped."""
    from stockade.cli.history_cmd import store_url_of
    from stockade.cli.inputs import check_namespace_flags, usage_errors
    from stockade.watch.service import WatchService, WatchServiceOptions

    check_namespace_flags(args)
    if args.duration is not None and not args.duration > 0:
        fatal("--duration must be more than 0 seconds")
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="stockade: %(message)s",
        stream=sys.stderr,
    )
    options = WatchServiceOptions(
        context=args.context,
        kubeconfig=args.kubeconfig,
        kinds=_split(args.kinds),
        namespaces=_split(args.namespaces) + _split(args.namespace),
        pod_templates=list(args.pod_template),
        rules=_split(args.rules),
        skip_rules=_split(args.skip_rules),
        exceptions=args.exceptions,
        policies=list(args.policies),
        allowed_registries=_split([args.allowed_registries]) if args.allowed_registries else None,
        store=store_url_of(args),
        store_cluster=args.store_cluster if args.store_cluster != "default" else None,
        retention_days=args.retention,
        record_objects=args.object_history,
        view_interval=args.view_interval if args.view_interval > 0 else None,
        events=args.events,
        webhook=args.webhook,
        webhook_format=args.webhook_format,
        policy_reports=args.policy_reports,
        metrics_address=args.metrics_address,
        leader_elect=args.leader_elect,
        lease_name=args.lease_name,
        lease_namespace=args.lease_namespace,
    )
    with usage_errors():
        service = WatchService.open(options)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    for caught in (signal.SIGTERM, signal.SIGINT):
        signal.signal(caught, on_signal)
    if args.duration is not None:
        timer = threading.Timer(args.duration, stop.set)
        timer.daemon = True  # never keeps the process alive after the watch ended
        timer.start()
    try:
        service.run(stop)
    finally:
        service.close()
    return EXIT_UNREADABLE if service.watcher.status.problems else EXIT_CLEAN
