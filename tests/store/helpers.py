"""Findings and scans made by hand, so each test says exactly what a scan saw."""

from __future__ import annotations

import dataclasses
import datetime as dt

from stockade.engine.evaluate import fingerprint
from stockade.model.finding import Finding, InputProblem, Location, ResourceRef, Severity, Status, Waiver
from stockade.model.result import ScanResult

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def finding(
    rule_id: str = "WL-001",
    name: str = "web",
    *,
    kind: str = "Deployment",
    namespace: str | None = "shop",
    status: Status = Status.FAIL,
    waiver: Waiver | None = None,
    message: str = "privileged container",
) -> Finding:
    ref = ResourceRef("apps/v1" if kind == "Deployment" else "v1", kind, namespace, name)
    return Finding(
        rule_id=rule_id,
        status=status,
        severity=Severity.HIGH,
        resource=ref,
        message=message,
        location=Location("cluster:test"),
        fingerprint=fingerprint(rule_id, ref, "app", "spec.template"),
        path="spec.template",
        container="app",
        waiver=waiver,
    )


def excepted(base: Finding, reason: str = "accepted risk") -> Finding:
    waiver = Waiver(source="exceptions.yaml#1", reason=reason, expires="2025-12-31")
    return dataclasses.replace(base, status=Status.EXCEPTED, waiver=waiver)


def scan(*findings: Finding, incomplete: bool = False) -> ScanResult:
    errors = [InputProblem("cluster", "forbidden: list secrets")] if incomplete else []
    return ScanResult(rules=[], findings=list(findings), errors=errors)
