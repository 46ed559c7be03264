"""Transition events for the sink tests: made by hand, or from the findings of a real scan."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from stockade.model.finding import Finding, ResourceRef, Severity
from stockade.store.lifecycle import Change, State
from stockade.watch.events import TransitionEvent

AT = dt.datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=dt.UTC)


def event(number: int = 0, **changes: object) -> TransitionEvent:
    """An ``opened`` event; ``number`` makes its fingerprint and object name unique."""
    base = TransitionEvent(
        cluster="prod-eu",
        at=AT,
        change=Change.OPENED,
        from_state=None,
        to_state=State.OPEN,
        fingerprint=f"fp-{number:05d}",
        rule_id="WL-001",
        severity=Severity.HIGH,
        message=f"container app of web-{number} runs as root",
        resource=ResourceRef("apps/v1", "Deployment", "shop", f"web-{number}"),
        container="app",
        path="spec.template.spec.containers[0].securityContext.runAsNonRoot",
        resource_version=str(1000 + number),
        changed_by="kubectl-client-side-apply",
        waiver=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def events(count: int) -> list[TransitionEvent]:
    return [event(n) for n in range(count)]


def events_from_findings(findings: Iterable[Finding], cluster: str = "prod-eu") -> list[TransitionEvent]:
    """The ``opened`` transitions a first watch of the scanned objects would write."""
    return [
        TransitionEvent(
            cluster=cluster,
            at=AT,
            change=Change.OPENED,
            from_state=None,
            to_state=State.OPEN,
            fingerprint=f.fingerprint,
            rule_id=f.rule_id,
            severity=f.severity,
            message=f.message,
            resource=f.resource,
            container=f.container,
            path=f.path,
            resource_version="1",
            changed_by=None,
            waiver=f.waiver,
        )
        for f in findings
    ]
