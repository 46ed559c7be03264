"""One finding transition as the watcher tells it: to a JSON-lines stream, a webhook, metrics.

The JSON form (``stockade.event/v1``) is one object per line::

    {"schema": "stockade.event/v1", "cluster": "prod-eu", "at": "2026-12-04T10:00:00.123456Z",
     "change": "opened", "from": null, "to": "open", "fingerprint": "…", "rule": "WL-001",
     "severity": "high", "message": "…", "resource": {"apiVersion": "apps/v1", "kind": "Deployment",
     "namespace": "shop", "name": "web"}, "container": "app", "path": "spec.template…",
     "resourceVersion": "1234", "changedBy": "kubectl-client-side-apply", "waiver": null}

Findings never carry Secret values (rules report key names), so neither do events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from stockade.model.finding import ResourceRef, Severity, Waiver
from stockade.store.lifecycle import Change, State
from stockade.store.store import Written

EVENT_SCHEMA = "stockade.event/v1"


@dataclass(frozen=True, slots=True)
class TransitionEvent:
    """A finding of ``cluster`` changed state at ``at`` (as stored in the history)."""

    cluster: str
    at: dt.datetime  # aware, UTC
    change: Change
    from_state: State | None
    to_state: State
    fingerprint: str
    rule_id: str
    severity: Severity
    message: str
    resource: ResourceRef
    container: str | None
    path: str
    resource_version: str | None
    changed_by: str | None
    waiver: Waiver | None

    @classmethod
    def of(cls, written: Written, cluster: str, at: dt.datetime) -> TransitionEvent:
        """The event of a transition the store wrote for ``cluster`` at ``at``."""
        fields = {f.name: getattr(written, f.name) for f in dataclasses.fields(written)}
        return cls(cluster=cluster, at=at, **fields)

    # What the sinks ask of any event (stockade.watch.sinks.AlertEvent).
    alert_noun = "finding change"

    @property
    def alert_source(self) -> str:
        return self.cluster

    @property
    def alert_kind(self) -> str:
        return self.change.value

    def alert_line(self) -> str:
        """One readable line: change, severity, rule, object, message (plain text)."""
        where = self.resource.display + (f" (container {self.container})" if self.container else "")
        return f"{self.change.value.upper()} {self.severity.value} {self.rule_id} {where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        waiver = None
        if self.waiver is not None:
            waiver = {"source": self.waiver.source, "reason": self.waiver.reason, "expires": self.waiver.expires}
        return {
            "schema": EVENT_SCHEMA,
            "cluster": self.cluster,
            "at": self.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "change": self.change.value,
            "from": self.from_state.value if self.from_state else None,
            "to": self.to_state.value,
            "fingerprint": self.fingerprint,
            "rule": self.rule_id,
            "severity": self.severity.value,
            "message": self.message,
            "resource": {
                "apiVersion": self.resource.api_version,
                "kind": self.resource.kind,
                "namespace": self.resource.namespace,
                "name": self.resource.name,
            },
            "container": self.container,
            "path": self.path,
            "resourceVersion": self.resource_version,
            "changedBy": self.changed_by,
            "waiver": waiver,
        }
