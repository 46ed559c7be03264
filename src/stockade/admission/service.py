"""``stockade admission serve`` as a library: check everything, start the namespace cache and the
HTTPS server, run until told to stop, close.

::

    service = AdmissionService.open(AdmissionServiceOptions(config="admission.yaml", cert_file="tls.crt",
                                                            key_file="tls.key", cluster=True))
    try:
        service.run(stop_event)
    finally:
        service.close()

:meth:`AdmissionService.open` raises a :class:`~stockade.errors.StockadeError` for anything wrong
with the options (the configuration, the certificate, the cluster) before anything is served.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stockade.admission.app import DEFAULT_MAX_BODY, build_app
from stockade.admission.config import AdmissionConfig, load_admission_config
from stockade.admission.connect import connect_event
from stockade.admission.decide import AdmissionDecider
from stockade.admission.logs import log_event
from stockade.admission.metrics import AdmissionMetrics
from stockade.admission.namespaces import NamespaceLabels, WatchedNamespaces
from stockade.admission.review import AdmissionRequest
from stockade.admission.server import DEFAULT_PORT, AdmissionServer, check_certificate
from stockade.errors import UsageError
from stockade.sources.cluster import private_credentials_dir
from stockade.sources.cluster_watch import WatchTiming

log = logging.getLogger("stockade.admission")


@dataclass(frozen=True, slots=True)
class AdmissionServiceOptions:
    """``config``: the configuration file (None: the defaults). ``cluster`` / ``context`` /
    ``kubeconfig``: where the namespaces' labels are read (Pod Security needs one of them, or
    ``namespaces``, a ready cache)."""

    cert_file: str
    key_file: str
    config: str | None = None
    address: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    cluster: bool = False
    context: str | None = None
    kubeconfig: str | None = None
    namespaces: NamespaceLabels | None = None
    max_body: int = DEFAULT_MAX_BODY
    timing: WatchTiming | None = None

    @property
    def wants_cluster(self) -> bool:
        return self.cluster or self.context is not None or self.kubeconfig is not None


def record_connect(request: AdmissionRequest) -> None:
    """The break-glass trail: one ``admission.connect`` JSON log line (``stockade.connect/v1``) per
    exec, attach or port-forward into a pod: who, which pod and container, the command, when."""
    event = connect_event(request.raw)
    if event is not None:
        log_event("connect", None, connect=event.to_json())


class AdmissionService:
    """The running webhook: its decider, server and namespace cache."""

    def __init__(
        self,
        config: AdmissionConfig,
        server: AdmissionServer,
        namespaces: NamespaceLabels | None,
        closers: list[Callable[[], None]],
    ) -> None:
        self.config = config
        self.server = server
        self.namespaces = namespaces
        self._closers = closers

    @classmethod
    def open(cls, options: AdmissionServiceOptions) -> AdmissionService:
        config = load_admission_config(options.config) if options.config else AdmissionConfig.default()
        check_certificate(Path(options.cert_file), Path(options.key_file))
        namespaces = options.namespaces
        closers: list[Callable[[], None]] = []
        try:
            if namespaces is None and config.pod_security.enabled:
                if not options.wants_cluster:
                    raise UsageError(
                        "Pod Security needs the namespaces' labels: give --cluster, --context or --kubeconfig"
                        " (or set pod-security.enabled: false in the configuration)"
                    )
                credentials = contextlib.ExitStack()
                closers.append(credentials.close)
                directory = credentials.enter_context(private_credentials_dir())
                watched = WatchedNamespaces.open(
                    context=options.context,
                    kubeconfig=options.kubeconfig,
                    timing=options.timing,
                    credentials_dir=directory,
                )
                closers.append(watched.stop)
                namespaces = watched.start()
            metrics = AdmissionMetrics()
            decider = AdmissionDecider(config, namespaces)
            app = build_app(
                decider, metrics, ready=_readiness(namespaces), max_body=options.max_body, on_connect=record_connect
            )
            server = AdmissionServer(
                app,
                cert_file=options.cert_file,
                key_file=options.key_file,
                host=options.address,
                port=options.port,
                metrics=metrics,
            )
            try:
                server.start()
            except OSError as exc:
                raise UsageError(f"cannot listen on {options.address}:{options.port}: {exc.strerror or exc}") from None
            closers.append(server.stop)
        except BaseException:
            for close in reversed(closers):
                close()
            raise
        # What is loaded now (rules, policies, compiled expressions, libraries) lives as long as the
        # process: out of the collector's sight, its full collections walk only what requests make.
        gc.collect()
        gc.freeze()
        log.info("admission webhook on %s: %s", server.url, config.summary())
        return cls(config, server, namespaces, closers)

    def run(self, stop: threading.Event) -> None:
        stop.wait()

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def _readiness(namespaces: NamespaceLabels | None) -> Callable[[], list[str]]:
    def problems() -> list[str]:
        if namespaces is None or namespaces.synced:
            return []
        problem = getattr(namespaces, "problem", None)
        return [f"the namespaces are not listed yet{f': {problem}' if problem else ''}"]

    return problems
