"""Everything ``stockade watch`` runs, put together from its options: the library entry point for
continuous posture (the CLI and the in-cluster Deployment are thin clients of it).

::

    from stockade.watch.service import WatchService, WatchServiceOptions

    service = WatchService.open(WatchServiceOptions(context="prod", store="postgresql://…"))
    stop = threading.Event()
    service.run(stop)       # until stop is set
    service.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from stockade.api import ScanOptions, catalogue, load_waivers, select, severity_overrides, template_paths
from stockade.engine.incremental import IncrementalEvaluator
from stockade.errors import SourceError, StockadeError, UsageError
from stockade.policies.load import read_policies
from stockade.rules import rule_aliases
from stockade.rules.base import RuleConfig
from stockade.sources.cluster import private_credentials_dir
from stockade.sources.cluster_watch import ClusterWatch, WatchTiming, open_watch
from stockade.store import FindingStore
from stockade.watch.kinds import default_kinds
from stockade.watch.leader import LeaderElector, LeaseConfig, default_identity
from stockade.watch.metrics import WatchMetrics
from stockade.watch.policyreports import PolicyReportWriter
from stockade.watch.server import HealthServer, health_of
from stockade.watch.sinks import JsonLinesSink, Sink, WebhookFormat, WebhookSink
from stockade.watch.watcher import Watcher, WatchSettings

log = logging.getLogger("stockade.watch")


@dataclass(frozen=True, slots=True)
class WatchServiceOptions:
    context: str | None = None
    kubeconfig: str | None = None
    kinds: list[str] = field(default_factory=list)  # empty: what the rules read
    namespaces: list[str] = field(default_factory=list)
    pod_templates: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    skip_rules: list[str] = field(default_factory=list)
    exceptions: str | None = None
    policies: list[str] = field(default_factory=list)  # user policies: files or directories
    allowed_registries: list[str] | None = None
    store: str | None = None  # None: the default SQLite file
    store_cluster: str | None = None  # None: the kubeconfig context's name
    retention_days: int | None = None
    events: str | None = None  # a file, or "-" for stdout
    webhook: str | None = None
    webhook_format: str = "slack"
    policy_reports: bool = False
    metrics_address: str | None = None
    leader_elect: bool = False
    lease_name: str = "stockade-watch"
    lease_namespace: str = "stockade"
    identity: str | None = None  # this replica in the election (default: pod or host name + suffix)
    lease_timing: tuple[float, float, float] = (15.0, 10.0, 2.0)  # duration, renew deadline, retry period
    timing: WatchTiming = field(default_factory=WatchTiming)
    batch_interval: float = 0.2
    debounce: float = 2.0
    report_interval: float = 30.0  # seconds between PolicyReport syncs (when something changed)
    # Keep every observed object version (not only those behind transitions) for `history replay`;
    # off by default: at 1,000 changes a second it costs more store time than the transitions.
    record_objects: bool = False
    # Seconds between cluster views (the dashboard's scorecard, paths, RBAC); None: never.
    view_interval: float | None = 600.0


def _sinks(options: WatchServiceOptions, metrics: WatchMetrics) -> list[Sink]:
    sinks: list[Sink] = []
    if options.events:
        sinks.append(JsonLinesSink(options.events, observer=metrics))
    if options.webhook:
        fmt: WebhookFormat = "json" if options.webhook_format == "json" else "slack"
        try:
            sinks.append(WebhookSink(options.webhook, format=fmt, observer=metrics))
        except ValueError as error:
            raise UsageError(f"--webhook: {error}") from None
    for sink in sinks:
        metrics.track_sink(sink.name)
    return sinks


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9090`` for IPv6; ``:9090`` is loopback) for the metrics server."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--metrics-address {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9090")
    return host, int(port)


@dataclass(frozen=True, slots=True)
class _Closing:
    """Closes a sink within a time limit (a webhook delivers what is queued)."""

    sink: Sink
    timeout: float = 10.0

    def close(self) -> None:
        self.sink.close(self.timeout)


@dataclass(frozen=True, slots=True)
class _Stopping:
    server: HealthServer

    def close(self) -> None:
        self.server.stop()


class WatchService:
    def __init__(self, watcher: Watcher, closers: list[Any]) -> None:
        self.watcher = watcher
        self._closers = closers

    @classmethod
    def open(cls, options: WatchServiceOptions) -> WatchService:
        """Check the options, open the store, connect to the cluster, start the side services.
        Raises a StockadeError (a usage or configuration problem) before anything runs."""
        scan_options = ScanOptions(
            rules=options.rules,
            skip_rules=options.skip_rules,
            config=RuleConfig(allowed_registries=tuple(options.allowed_registries or ()) or None),
            pod_templates=options.pod_templates,
        )
        policies = read_policies(options.policies)
        if policies.problems:
            listed = "; ".join(f"{p.source}: {p.message}" for p in policies.problems)
            raise UsageError(f"the policies cannot all be used: {listed}")
        rules = select(scan_options, policies)
        waivers = load_waivers(options.exceptions, policies) if options.exceptions else []
        paths = template_paths(options.pod_templates)
        kinds = options.kinds or sorted(default_kinds(rules, paths))
        closers: list[Any] = []
        try:
            retention = dt.timedelta(days=options.retention_days) if options.retention_days else None
            store = FindingStore.open(options.store, retention=retention)
            closers.append(store)
            credentials = contextlib.ExitStack()
            closers.append(credentials)
            directory = credentials.enter_context(private_credentials_dir())
            evaluator = IncrementalEvaluator(
                rules,
                config=scan_options.config,
                exceptions=waivers,
                rule_aliases=rule_aliases(catalogue(policies)),
                template_paths=paths,
                severity_overrides=severity_overrides(scan_options.severity_overrides, policies),
                debounce=options.debounce,
                # Events and the store carry rule, message and object, no remediation, and
                # PolicyReports the rule's: per-object ones (kubectl patches naming the object)
                # would be a fifth of a large cluster's findings' memory.
                specific_remediations=False,
            )
            holder: list[Watcher] = []
            watch: ClusterWatch = open_watch(
                lambda item: holder[0].emit(item),
                kinds=kinds,
                context=options.context,
                kubeconfig=options.kubeconfig,
                namespaces=options.namespaces or None,
                timing=options.timing,
                credentials_dir=directory,
            )
            if options.kinds and watch.unmatched:
                raise SourceError(f"the cluster serves no watchable resource named {', '.join(watch.unmatched)}")
            for problem in watch.discovery_problems:
                log.warning("%s", problem)
            metrics = WatchMetrics()
            sinks = _sinks(options, metrics)
            closers.extend(_Closing(sink) for sink in sinks)
            settings = WatchSettings(
                cluster=options.store_cluster or watch.context,
                batch_interval=options.batch_interval,
                report_interval=options.report_interval,
                record_objects=options.record_objects,
                view_interval=options.view_interval,
                timing=options.timing,
            )
            leader = None
            if options.leader_elect:
                lease = LeaseConfig(
                    name=options.lease_name,
                    namespace=options.lease_namespace,
                    identity=options.identity or default_identity(),
                    lease_duration=options.lease_timing[0],
                    renew_deadline=options.lease_timing[1],
                    retry_period=options.lease_timing[2],
                )
                leader = LeaderElector(watch.api, lease)
                closers.append(leader)
            reports = PolicyReportWriter(watch.api) if options.policy_reports else None
            watcher = Watcher(
                watch, evaluator, store, settings, sinks=sinks, observer=metrics, leader=leader, reports=reports
            )
            holder.append(watcher)
            if leader is not None:
                leader.start()
            if options.metrics_address:
                host, port = parse_address(options.metrics_address)
                server = HealthServer(metrics, host=host, port=port, health=lambda: health_of(watcher.status, leader))
                server.start()
                closers.append(_Stopping(server))
                log.info("metrics and health on %s (/metrics, /healthz, /readyz)", server.url)
        except BaseException:
            for closer in reversed(closers):
                closer.close()
            raise
        log.info(
            "watching %d resource(s) of %s as cluster %r, recording into %s",
            len(watch.informers),
            watch.context,
            settings.cluster,
            store.engine.url.render_as_string(hide_password=True),
        )
        return cls(watcher, closers)

    def run(self, stop: threading.Event) -> None:
        self.watcher.run(stop)

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer.close()
            except StockadeError as error:  # a sink or the store failing at exit is said, not raised
                log.warning("%s", error)
