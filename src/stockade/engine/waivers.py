"""Waivers: the ``stockade.io/ignore`` annotation and the exceptions file.

An exception says who waived what, why and until when. An expired one re-opens its findings (and
says so); one that matches nothing is reported as stale, because forgotten waivers hide real risk.

Exceptions file (YAML or JSON)::

    apiVersion: stockade.io/v1
    kind: ExceptionList
    exceptions:
      - rule: WL-001              # id or name; a list is accepted too
        namespace: monitoring     # glob, optional (default: any)
        kind: DaemonSet           # optional (default: any)
        name: node-exporter*      # glob, optional (default: any)
        container: exporter       # optional
        reason: needs host PID to read process metrics
        owner: platform-team      # who accepted the risk, optional
        expires: 2027-03-31       # optional ISO date; after it the finding is open again
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from stockade.errors import WaiversFileError
from stockade.model.waiver import WaiverEntry

IGNORE_ANNOTATION = "stockade.io/ignore"
REASON_ANNOTATION = "stockade.io/ignore-reason"


@dataclass(slots=True)
class WaiverBook:
    """All exceptions of a scan, and which of them were used."""

    entries: list[WaiverEntry] = field(default_factory=list)
    used: set[int] = field(default_factory=set)

    def find(
        self, rule_id: str, kind: str, namespace: str | None, name: str, container: str | None
    ) -> WaiverEntry | None:
        for index, entry in enumerate(self.entries):
            if entry.matches(rule_id, kind, namespace, name, container):
                self.used.add(index)
                return entry
        return None

    def stale(self) -> list[WaiverEntry]:
        return [entry for index, entry in enumerate(self.entries) if index not in self.used]


def _text(entry: Mapping[str, object], key: str, where: str, *, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise WaiversFileError(f"{where}: '{key}' is required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise WaiversFileError(f"{where}: '{key}' must be a string")
    return str(value)


def _date(value: object, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WaiversFileError(f"{where}: 'expires' must be a date like 2027-03-31, got {value!r}")


def parse_waivers(data: object, source: str, resolve_rule: Mapping[str, str]) -> list[WaiverEntry]:
    """Validate a loaded exceptions document. ``resolve_rule`` maps ids and names to rule ids."""
    if isinstance(data, Mapping):
        items = data.get("exceptions")
        if data.get("kind") not in (None, "ExceptionList"):
            raise WaiversFileError(f"{source}: kind must be ExceptionList")
    else:
        items = data
    if not isinstance(items, list):
        raise WaiversFileError(f"{source}: expected a list under 'exceptions'")
    entries = []
    for number, item in enumerate(items, start=1):
        where = f"{source}#{number}"
        if not isinstance(item, Mapping):
            raise WaiversFileError(f"{where}: each exception must be a mapping")
        unknown = set(item) - {
            "rule",
            "rules",
            "namespace",
            "kind",
            "name",
            "container",
            "reason",
            "owner",
            "expires",
        }
        if unknown:
            raise WaiversFileError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        raw_rules = item.get("rules", item.get("rule"))
        names: Sequence[object] = raw_rules if isinstance(raw_rules, list) else [raw_rules]
        rule_ids = []
        for raw in names:
            if not isinstance(raw, str) or not raw:
                raise WaiversFileError(f"{where}: 'rule' must name a rule id or name")
            rid = resolve_rule.get(raw) or resolve_rule.get(raw.upper()) or resolve_rule.get(raw.lower())
            if rid is None:
                raise WaiversFileError(f"{where}: unknown rule {raw!r}")
            rule_ids.append(rid)
        reason = _text(item, "reason", where, required=True)
        assert reason is not None
        if not reason.strip():
            raise WaiversFileError(f"{where}: 'reason' must not be empty")
        entries.append(
            WaiverEntry(
                rules=tuple(rule_ids),
                reason=reason.strip(),
                source=where,
                namespace=_text(item, "namespace", where) or "*",
                kind=_text(item, "kind", where) or "*",
                name=_text(item, "name", where) or "*",
                container=_text(item, "container", where),
                owner=_text(item, "owner", where),
                expires=_date(item.get("expires"), where),
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class AnnotationWaiver:
    rules: frozenset[str]
    reason: str | None  # None: the required reason is missing, so nothing is waived


def annotation_waiver(annotations: Mapping[str, object], resolve_rule: Mapping[str, str]) -> AnnotationWaiver | None:
    value = annotations.get(IGNORE_ANNOTATION)
    if not isinstance(value, str) or not value.strip():
        return None
    rules = set()
    for token in value.split(","):
        token = token.strip()
        rid = resolve_rule.get(token) or resolve_rule.get(token.upper()) or resolve_rule.get(token.lower())
        if rid is not None:
            rules.add(rid)
    reason = annotations.get(REASON_ANNOTATION)
    return AnnotationWaiver(frozenset(rules), reason.strip() if isinstance(reason, str) and reason.strip() else None)
