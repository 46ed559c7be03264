"""The aggregation as first written, kept as an oracle: every aggregated role's union recomputed
round after round until nothing changes (quadratic and worse; for small cases only)."""

from __future__ import annotations

from collections.abc import Mapping

from stockade.rbac.aggregate import SourcedRule
from stockade.rbac.model import PolicyRule
from stockade.rbac.parse import RoleDef


def aggregate_by_rounds(cluster_roles: Mapping[str, RoleDef]) -> dict[str, tuple[SourcedRule, ...]]:
    aggregated = sorted(name for name, role in cluster_roles.items() if role.aggregation is not None)
    matched = {
        name: tuple(
            dict.fromkeys(
                candidate
                for selector in cluster_roles[name].aggregation or ()
                for candidate in sorted(cluster_roles)
                if candidate != name and selector.matches(cluster_roles[candidate].labels)
            )
        )
        for name in aggregated
    }
    current: dict[str, tuple[SourcedRule, ...]] = {
        name: tuple(SourcedRule(rule, role.ref, i) for i, rule in enumerate(role.rules))
        for name, role in cluster_roles.items()
        if role.aggregation is None
    }
    for name in aggregated:
        current[name] = ()
    for _ in range(len(aggregated) + 2):
        changed = False
        for name in aggregated:
            union: dict[PolicyRule, SourcedRule] = {}
            for source in matched[name]:
                for sourced in current[source]:
                    union.setdefault(sourced.rule, sourced)
            computed = tuple(union.values())
            if computed != current[name]:
                current[name] = computed
                changed = True
        if not changed:
            break
    return {name: current[name] for name in aggregated}
