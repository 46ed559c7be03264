"""Which resources the API server sends the webhook: derived from the rule registry.

Like the watcher's ClusterRole (:func:`stockade.engine.incremental.input_kinds`): the kinds object
rules judge, the kinds inventory rules read (RBAC objects, Namespaces, ServiceAccounts...), and every
resource with a pod template when a rule judges pods or containers. Pod carriers are taken as
(group, kind) pairs, so Knative's ``Service`` brings ``services.serving.knative.dev`` and not the
core Services. Left out: Secrets (no default rule needs a Secret's values, and a webhook sent every
Secret written in the cluster would hold them all in its requests) and CustomResourceDefinitions
(read only to learn the scope of custom kinds). Custom kinds the rules only read (network-policy
CRDs) are not judged at the door either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stockade.api import ScanOptions, select
from stockade.engine.live_inventory import CRD_KIND
from stockade.errors import SelectionError
from stockade.model.kinds import BUILTIN_GROUPS, BUILTIN_TYPES
from stockade.model.podspec import BUILTIN_TEMPLATE_PATHS, DEFAULT_EXTRA_TEMPLATE_PATHS
from stockade.model.rule import EVERY_KIND_READS, RuleSpec, Scope

NOT_AT_THE_DOOR = frozenset({"Secret", CRD_KIND})
CARRIERS: frozenset[tuple[str, str]] = frozenset(BUILTIN_TEMPLATE_PATHS) | frozenset(DEFAULT_EXTRA_TEMPLATE_PATHS)


@dataclass(frozen=True, slots=True, order=True)
class AdmittedResource:
    """A resource the webhook is sent writes of: API group and plural (any version), and its kind."""

    group: str
    plural: str
    kind: str


def admitted_resources(
    rules: Sequence[str] = (), skip_rules: Sequence[str] = (), kinds: Iterable[str] | None = None
) -> list[AdmittedResource]:
    """What the rules selected by ``rules`` / ``skip_rules`` (as ``stockade scan --rules``) judge or
    read, sorted; ``kinds`` names the kinds instead. Raises ValueError for a malformed selection."""
    if kinds is not None:
        return sorted(_named(set(kinds) - NOT_AT_THE_DOOR))
    try:
        selected: list[RuleSpec] = list(select(ScanOptions(rules=rules, skip_rules=skip_rules)))
    except SelectionError as error:
        raise ValueError(str(error)) from None
    named: set[str] = set()
    carriers = False
    for rule in selected:
        if rule.scope is Scope.OBJECT and rule.kinds:
            named |= rule.kinds
        carriers = carriers or rule.scope in (Scope.POD, Scope.CONTAINER) or bool(rule.reads & EVERY_KIND_READS)
        named |= rule.reads - EVERY_KIND_READS
    found = _named(named - NOT_AT_THE_DOOR)
    if carriers:
        found.update(r for group, kind in CARRIERS if (r := _resource(group, kind)) is not None)
    return sorted(found)


def pod_carriers(resources: Iterable[AdmittedResource]) -> list[AdmittedResource]:
    """Those of ``resources`` with a pod or pod template: what the mutating webhook patches."""
    return [r for r in resources if (r.group, r.kind) in CARRIERS]


def _named(kinds: set[str]) -> set[AdmittedResource]:
    """Every resource whose kind is named: an object rule judges an object by its kind."""
    found = {
        AdmittedResource(t.group, t.plural, t.kind)
        for t in BUILTIN_TYPES
        if t.kind in kinds and t.served_by_default and "create" in t.verbs
    }
    found.update(_custom(group, kind) for group, kind in DEFAULT_EXTRA_TEMPLATE_PATHS
                 if kind in kinds and group not in BUILTIN_GROUPS)  # fmt: skip
    return found


def _resource(group: str, kind: str) -> AdmittedResource | None:
    if group not in BUILTIN_GROUPS:
        return _custom(group, kind)
    for t in BUILTIN_TYPES:
        if t.group == group and t.kind == kind and t.served_by_default and "create" in t.verbs:
            return AdmittedResource(t.group, t.plural, t.kind)
    return None  # e.g. extensions/v1beta1 Deployments, no longer served


def _custom(group: str, kind: str) -> AdmittedResource:
    lower = kind.lower()
    plural = lower[:-1] + "ies" if lower.endswith("y") else lower + ("es" if lower.endswith("s") else "s")
    return AdmittedResource(group, plural, kind)
