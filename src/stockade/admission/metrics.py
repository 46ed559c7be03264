"""Prometheus metrics of the admission webhook, on a registry of its own (never the global one)."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from stockade import __version__

# Admission answers are due in milliseconds; the API server gives up after timeoutSeconds (≤ 30).
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 10.0)
ENDPOINTS = ("validate", "mutate")


class AdmissionMetrics:
    """What the webhook counts (each metric is described in its help text)."""

    def __init__(self, *, version: str = __version__) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "stockade_admission_requests",
            "Admission requests answered, by endpoint, operation and outcome (allowed, denied, error)",
            ["endpoint", "operation", "result"],
            registry=r,
        )
        self.decisions = Counter(
            "stockade_admission_decisions",
            "Findings at admission by rule, its mode and what became of them"
            " (deny, warn, audit, dry-run, excepted, error)",
            ["rule", "mode", "result"],
            registry=r,
        )
        self.pod_security = Counter(
            "stockade_admission_pod_security",
            "Pod Security evaluations by mode, policy (level:version) and outcome (allow, deny)",
            ["mode", "policy", "result"],
            registry=r,
        )
        self.latency = Histogram(
            "stockade_admission_request_seconds",
            "Time from a request's body being read to its answer being ready, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "stockade_admission_rejected_requests",
            "Requests answered without a decision (too large, wrong content type, unreadable review)",
            ["reason"],
            registry=r,
        )
        self.certificate_reloads = Counter(
            "stockade_admission_certificate_reloads",
            "Serving certificate reloads from disk, by outcome (ok, failed)",
            ["result"],
            registry=r,
        )
        self._decision_series: dict[tuple[str, str, str], Any] = {}
        self.build_info = Gauge("stockade_build_info", "The running Stockade version", ["version"], registry=r)
        self.build_info.labels(version=version).set(1)
        for endpoint in ENDPOINTS:  # every series exists from the start: rate() needs the zero
            self.latency.labels(endpoint=endpoint)
        for result in ("ok", "failed"):
            self.certificate_reloads.labels(result=result)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def answered(self, endpoint: str, operation: str, result: str, seconds: float) -> None:
        self.requests.labels(endpoint=endpoint, operation=operation or "unknown", result=result).inc()
        self.latency.labels(endpoint=endpoint).observe(seconds)

    def findings(self, verdicts: Iterable[tuple[str, str, str]]) -> None:
        # Counted first, then one increment per series: a request brings a dozen findings of a few
        # rules, and looking a series up costs more than the increment.
        for key, count in collections.Counter(verdicts).items():
            child = self._decision_series.get(key)
            if child is None:
                rule, mode, result = key
                child = self._decision_series[key] = self.decisions.labels(rule=rule, mode=mode, result=result)
            child.inc(count)

    def pod_security_evaluated(self, evaluations: Iterable[tuple[str, str, bool]]) -> None:
        for mode, policy, allowed in evaluations:
            self.pod_security.labels(mode=mode, policy=policy, result="allow" if allowed else "deny").inc()
