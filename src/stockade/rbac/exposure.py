"""Every dangerous grant in the scanned objects: who gets which power, through which binding and rule.

One pass over the bindings of an `RbacIndex`: each rule of each bound role is classified once
(`stockade.rbac.danger`), at the scope the binding gives it, and every match becomes an
`Exposure`. Stock grants (Kubernetes' own roles bound to system identities, see
`stockade.rbac.objects`) are left out, so what remains is what the cluster's owners chose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from stockade.rbac.danger import Classifier, Danger, DangerMatch
from stockade.rbac.index import IndexedRole, RbacIndex
from stockade.rbac.model import ObjectRef, PolicyRule, Subject
from stockade.rbac.objects import RbacObjects


@dataclass(frozen=True, slots=True)
class Exposure:
    """``subjects`` hold ``match`` through ``binding`` → ``role`` rule ``rule_index``.

    ``source``/``source_index`` name the role and rule that declare it (another ClusterRole when
    ``role`` is aggregated). ``namespace`` is where it applies: None means cluster-wide.
    """

    match: DangerMatch
    binding: ObjectRef
    role: ObjectRef
    rule_index: int
    rule: PolicyRule
    source: ObjectRef
    source_index: int
    subjects: tuple[Subject, ...]
    all_access: bool = False  # the rule grants everything (so every danger), like cluster-admin

    @property
    def danger(self) -> Danger:
        return self.match.danger

    @property
    def namespace(self) -> str | None:
        return self.binding.namespace


@dataclass(frozen=True, slots=True)
class Exposures:
    """All exposures, with the lookups the rules and commands need."""

    items: tuple[Exposure, ...]
    by_danger: dict[Danger, tuple[Exposure, ...]]

    def of(self, *dangers: Danger) -> tuple[Exposure, ...]:
        return tuple(e for danger in dangers for e in self.by_danger.get(danger, ()))


RuleDangers = tuple[tuple[DangerMatch, ...], ...]


class RoleClassifier:
    """The dangers of every rule of a role, at one scope, computed once per (role, scope)."""

    def __init__(self, classifier: Classifier | None = None) -> None:
        self.classify = classifier or Classifier()
        self._memo: dict[tuple[ObjectRef, bool], RuleDangers] = {}

    def __call__(self, role: IndexedRole, namespaced: bool) -> RuleDangers:
        key = (role.ref, namespaced)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = tuple(self.classify(rule, namespaced) for rule in role.rules)
        return found


def is_all_access(matches: tuple[DangerMatch, ...]) -> bool:
    return any(m.danger is Danger.ALL_ACCESS for m in matches)


def find_exposures(index: RbacIndex, objects: RbacObjects, classifier: RoleClassifier | None = None) -> Exposures:
    """Classify every bound rule once and keep the dangerous, non-stock grants."""
    classify = classifier or RoleClassifier()
    found: list[Exposure] = []
    for binding in index.bindings():
        if binding.role_ref is None or not binding.subjects:
            continue
        subjects = tuple(s for s in binding.subjects if not objects.is_stock_grant(binding.ref, s))
        if not subjects:
            continue
        namespaced = binding.ref.namespace is not None
        # A role declared more than once in the manifests: each definition may be the applied one.
        for role in index.candidates(binding.role_ref):
            for position, matches in enumerate(classify(role, namespaced)):
                if not matches:
                    continue
                rule = role.rules[position]
                source, source_index = role.source(position)
                everything = is_all_access(matches)
                for match in matches:
                    found.append(
                        Exposure(
                            match, binding.ref, role.ref, position, rule, source, source_index, subjects, everything
                        )
                    )
    by_danger: dict[Danger, list[Exposure]] = defaultdict(list)
    for exposure in found:
        by_danger[exposure.danger].append(exposure)
    return Exposures(tuple(found), {danger: tuple(items) for danger, items in by_danger.items()})
