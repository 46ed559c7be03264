"""What the webhook would do to what already exists: ``stockade admission dry-run``.

The guide's order is: run the controller in a non-blocking mode, assess the objects already in the
cluster, and only then enforce. Each object is sent through the webhook's own decision
(:class:`~stockade.admission.decide.AdmissionDecider`) as a CREATE of itself, with the configured
modes, exceptions and Pod Security settings, so the report says exactly what switching a mode to
``enforce`` would refuse tomorrow. Pure: objects in, an :class:`Assessment` out.

Pod Security reads the labels of the Namespace objects among the inputs; a namespace the inputs do
not declare is taken as unlabelled (the configuration's defaults apply), and the assessment says
which namespaces were taken so.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stockade.admission.config import AdmissionConfig
from stockade.admission.decide import AdmissionDecider, Decision
from stockade.admission.review import AdmissionRequest, GroupVersionKind, GroupVersionResource, UserInfo
from stockade.model.inventory import Inventory
from stockade.model.kinds import BUILTIN_TYPES
from stockade.model.resource import Resource

# Who the assessment asks as: no user or group exemption matches it.
ASSESSOR = UserInfo(username="stockade:admission-dry-run")
# Kinds the webhook is never sent (manifests.py leaves them out too).
NOT_SENT = frozenset({"Secret", "CustomResourceDefinition"})
OUTCOMES = ("denied", "warned", "audited", "dry-run", "allowed")
_STRENGTH = ("deny", "warn", "audit", "dry-run")  # strongest first
_OUTCOME = dict(zip(_STRENGTH, OUTCOMES, strict=False))
_PLURALS = {(t.group, t.kind): t.plural for t in BUILTIN_TYPES}


@dataclass(frozen=True, slots=True)
class Assessed:
    """One object and what the webhook would answer for it."""

    kind: str
    namespace: str
    name: str
    place: str  # where it came from (file:line, or the cluster)
    decision: Decision

    @property
    def outcome(self) -> str:
        """The strongest effect: denied, warned, audited, dry-run (logged only) or allowed."""
        if not self.decision.allowed:
            return "denied"
        results = {result for _, result, _ in _effects_of(self.decision)}
        return next((_OUTCOME[r] for r in _STRENGTH if r in results), "allowed")

    @property
    def display(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class RuleEffect:
    """One rule (or Pod Security) in one namespace: the objects it would deny, warn on, audit, log."""

    namespace: str
    rule: str
    result: str  # deny, warn, audit or dry-run
    objects: tuple[tuple[str, str], ...]  # (object, message)


@dataclass(frozen=True)
class Assessment:
    objects: tuple[Assessed, ...]
    unlabelled_namespaces: tuple[str, ...] = ()
    skipped: Mapping[str, int] = field(default_factory=dict)  # kind -> objects the webhook is never sent

    def counts(self) -> dict[str, int]:
        found = Counter(o.outcome for o in self.objects)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    def effects(self) -> list[RuleEffect]:
        """Per namespace and rule, what would happen, strongest first."""
        grouped: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        for assessed in self.objects:
            for rule, result, message in _effects_of(assessed.decision):
                grouped.setdefault((assessed.namespace, rule, result), []).append((assessed.display, message))
        return [
            RuleEffect(namespace, rule, result, tuple(objects))
            for (namespace, rule, result), objects in sorted(
                grouped.items(), key=lambda item: (item[0][0], _STRENGTH.index(item[0][2]), item[0][1])
            )
        ]

    def to_json(self) -> dict[str, Any]:
        """The report as ``stockade.admission-dry-run/v1``: counts, then one entry per namespace and rule."""
        return {
            "schema": "stockade.admission-dry-run/v1",
            "objects": len(self.objects),
            "counts": self.counts(),
            "unlabelled_namespaces": list(self.unlabelled_namespaces),
            "not_sent": dict(self.skipped),
            "effects": [
                {
                    "namespace": effect.namespace,
                    "rule": effect.rule,
                    "result": effect.result,
                    "objects": [{"object": name, "message": message} for name, message in effect.objects],
                }
                for effect in self.effects()
            ],
        }


def assess(resources: Iterable[Resource], config: AdmissionConfig, *, today: dt.date | None = None) -> Assessment:
    """Send each of ``resources`` through the webhook's decision as a CREATE of itself."""
    inventory = Inventory(list(resources))
    declared = {ns.name: ns.labels for ns in inventory.of_kind("Namespace") if ns.name}
    namespaces = _Namespaces(declared)
    day = today or dt.date.today()
    decider = AdmissionDecider(config, namespaces, today=lambda: day)
    assessed: list[Assessed] = []
    skipped: Counter[str] = Counter()
    for resource in inventory:
        if resource.kind in NOT_SENT:
            skipped[resource.kind] += 1
            continue
        namespace = inventory.effective_namespace(resource) or ""
        request = _request(resource, namespace)
        assessed.append(
            Assessed(resource.kind, namespace, resource.name, resource.origin.place, decider.decide(request))
        )
    return Assessment(tuple(assessed), tuple(sorted(namespaces.assumed)), dict(sorted(skipped.items())))


def _request(resource: Resource, namespace: str) -> AdmissionRequest:
    group, _, version = resource.api_version.rpartition("/")
    plural = _PLURALS.get((group, resource.kind), resource.kind.lower() + "s")
    return AdmissionRequest(
        uid=f"dry-run-{resource.kind}-{namespace}-{resource.name}",
        kind=GroupVersionKind(group, version, resource.kind),
        resource=GroupVersionResource(group, version, plural),
        operation="CREATE",
        name=resource.name,
        namespace=namespace,
        user=ASSESSOR,
        object=resource.raw,
        dry_run=True,
    )


_PSA_RESULTS = {"enforce": "deny", "warn": "warn", "audit": "audit"}


def _effects_of(decision: Decision) -> list[tuple[str, str, str]]:
    """(rule, result, message) of each effect; Pod Security counts as the rule ``pod-security``,
    an object the webhook could not judge as ``error`` (answered by the failure policy)."""
    effects = [(v.rule_id, v.result, v.message) for v in decision.verdicts if v.result in _STRENGTH]
    for mode, policy, allowed in decision.pod_security:
        if not allowed and mode in _PSA_RESULTS:
            effects.append(("pod-security", _PSA_RESULTS[mode], f"fails Pod Security {policy}"))
    if decision.error:
        effects.append(("error", "deny" if not decision.allowed else "warn", decision.error))
    return effects


class _Namespaces:
    """Labels of the declared namespaces; any other namespace is taken as unlabelled, and noted."""

    def __init__(self, declared: Mapping[str, Mapping[str, object]]) -> None:
        self.declared = declared
        self.assumed: set[str] = set()

    def labels(self, name: str) -> Mapping[str, object] | None:
        found = self.declared.get(name)
        if found is None:
            self.assumed.add(name)
            return {}
        return found

    @property
    def synced(self) -> bool:
        return True
