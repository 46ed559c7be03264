"""ClusterRole aggregation computed offline, the way the control plane's controller fills ``rules``.

An aggregated ClusterRole's rules are the union, without duplicates, of the rules of every other
ClusterRole its selectors match (selector by selector, matched roles by name). Matched roles may
themselves be aggregated (``edit`` is aggregated into ``admin``), so the union is taken to a fixed
point. It is the least fixed point: a cycle of aggregated roles with no plain role feeding it
stays empty, since nothing real ever flows into it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from stockade.model.selectors import LabelSelector, label_value
from stockade.rbac.model import ObjectRef, PolicyRule
from stockade.rbac.parse import RoleDef


@dataclass(frozen=True, slots=True)
class SourcedRule:
    """A rule and where it is declared: the ClusterRole and the rule's position there."""

    rule: PolicyRule
    source: ObjectRef
    index: int


def aggregate(cluster_roles: Mapping[str, RoleDef]) -> dict[str, tuple[SourcedRule, ...]]:
    """Computed rules of every ClusterRole with a usable aggregationRule, by name."""
    aggregated = sorted(name for name, role in cluster_roles.items() if role.aggregation is not None)
    if not aggregated:
        return {}
    matched = _matches(cluster_roles, aggregated)
    current: dict[str, tuple[SourcedRule, ...]] = {
        name: tuple(SourcedRule(rule, role.ref, i) for i, rule in enumerate(role.rules))
        for name, role in cluster_roles.items()
        if role.aggregation is None
    }
    for name in aggregated:
        current[name] = ()
    # Unions only grow, so this settles; the bound only guards against orderings that keep swapping.
    for _ in range(len(aggregated) + 2):
        changed = False
        for name in aggregated:
            union: dict[PolicyRule, SourcedRule] = {}
            for source in matched[name]:
                for sourced in current[source]:
                    union.setdefault(sourced.rule, sourced)
            computed = tuple(union.values())
            # Compare order and sources too, so the result is the controller's steady state.
            if computed != current[name]:
                current[name] = computed
                changed = True
        if not changed:
            break
    return {name: current[name] for name in aggregated}


def _matches(cluster_roles: Mapping[str, RoleDef], aggregated: list[str]) -> dict[str, tuple[str, ...]]:
    """For each aggregated role, the roles its selectors pick, selector by selector, names sorted."""
    by_label: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, role in cluster_roles.items():
        for key in role.labels:
            value = label_value(role.labels, key) if isinstance(key, str) else None
            if value is not None:
                by_label[(key, value)].append(name)
    everyone = sorted(cluster_roles)
    result = {}
    for name in aggregated:
        selectors = cluster_roles[name].aggregation or ()
        picked: list[str] = []
        for selector in selectors:
            for candidate in sorted(_candidates(selector, by_label, everyone)):
                if candidate != name and selector.matches(cluster_roles[candidate].labels):
                    picked.append(candidate)
        result[name] = tuple(dict.fromkeys(picked))
    return result


def _candidates(
    selector: LabelSelector, by_label: Mapping[tuple[str, str], list[str]], everyone: list[str]
) -> list[str]:
    pairs = selector.equality_pairs
    if not pairs:
        return everyone
    return min((by_label.get(pair, []) for pair in pairs), key=len)
