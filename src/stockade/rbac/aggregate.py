"""ClusterRole aggregation computed offline, the way the control plane's controller fills ``rules``.

An aggregated ClusterRole's rules are the union, without duplicates, of the rules of every other
ClusterRole its selectors match (selector by selector, matched roles by name); a rule declared by
several roles keeps the first declaring role as its source. Matched roles may themselves be
aggregated (``edit`` is aggregated into ``admin``), so the union is taken to a fixed point. It is
the least fixed point: a cycle of aggregated roles with no plain role feeding it stays empty,
since nothing real ever flows into it.

The fixed point is computed in one pass, in time near-linear in the matches and the rules
produced: the aggregated roles that match each other form strongly connected components
(Tarjan), filled inputs first. A role outside any cycle is the plain union of its inputs. Inside
a cycle every role ends up with the same rules (each reaches all the others); each role's order
is a steady state of the controller: the rules of its inputs before its first match inside the
cycle, then that match's rules. Where the cycle leaves the order open, rules come role by role,
by name, each role's inputs in match order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
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


Computed = tuple[SourcedRule, ...]
_RulesOf = Callable[[str], Computed]  # the rules a role contributes: declared, or computed already


def aggregate(cluster_roles: Mapping[str, RoleDef]) -> dict[str, tuple[SourcedRule, ...]]:
    """Computed rules of every ClusterRole with a usable aggregationRule, by name."""
    aggregated = sorted(name for name, role in cluster_roles.items() if role.aggregation is not None)
    if not aggregated:
        return {}
    matched = _matches(cluster_roles, aggregated)
    computed: dict[str, Computed] = {}
    declared: dict[str, Computed] = {}

    def rules_of(name: str) -> Computed:
        if name in computed:
            return computed[name]
        if name not in declared:
            role = cluster_roles[name]
            declared[name] = tuple(SourcedRule(rule, role.ref, i) for i, rule in enumerate(role.rules))
        return declared[name]

    for component in _components(aggregated, matched):
        if len(component) == 1:
            (name,) = component
            computed[name] = _union(rules_of(source) for source in matched[name])
        else:
            _fill_cycle(component, matched, rules_of, computed)
    return {name: computed[name] for name in aggregated}


def _union(sequences: Iterable[Computed]) -> Computed:
    """The rules of ``sequences`` in order, each rule once, from its first source."""
    union: dict[PolicyRule, SourcedRule] = {}
    for sequence in sequences:
        for sourced in sequence:
            union.setdefault(sourced.rule, sourced)
    return tuple(union.values())


def _after(prefix: Computed, rest: Computed) -> Computed:
    """``prefix`` then the rules of ``rest`` not in it: a role whose inputs before ``rest`` gave
    ``prefix``, and ``rest`` holds every rule it can get."""
    return _union((prefix, rest)) if prefix else rest


def _fill_cycle(
    component: list[str],
    matched: Mapping[str, tuple[str, ...]],
    rules_of: _RulesOf,
    computed: dict[str, Computed],
) -> None:
    """Fill the roles of one strongly connected component (two or more roles matching each other).

    Each role R takes ``prefix(R)`` (the union of its inputs before its first match ``next(R)``
    inside the component), then the rules of ``next(R)``, which hold every rule of the component.
    Following ``next`` leads into a loop; the first role of a loop takes the prefixes of the loop
    in turn, then every other rule of the component in a canonical order.
    """
    members = set(component)
    following: dict[str, str] = {}
    prefix: dict[str, Computed] = {}
    for name in component:
        inputs = matched[name]
        first = next(i for i, source in enumerate(inputs) if source in members)
        following[name] = inputs[first]
        prefix[name] = _union(rules_of(source) for source in inputs[:first])
    everything = _union(rules_of(source) for source in _outside_inputs(sorted(component), matched, members))
    for start in sorted(component):
        path: list[str] = []
        on_path: dict[str, int] = {}
        name = start
        while name not in computed and name not in on_path:
            on_path[name] = len(path)
            path.append(name)
            name = following[name]
        if name in on_path:  # a loop: path[on_path[name]:]
            loop = path[on_path[name] :]
            head = _union([*(prefix[member] for member in loop), everything])
            computed[loop[0]] = head
            for member in reversed(loop[1:]):
                computed[member] = _after(prefix[member], computed[following[member]])
            path = path[: on_path[name]]
        for member in reversed(path):
            computed[member] = _after(prefix[member], computed[following[member]])


def _outside_inputs(component: list[str], matched: Mapping[str, tuple[str, ...]], members: set[str]) -> Iterable[str]:
    """The inputs of ``component`` from outside it, role by role, each once."""
    seen: set[str] = set()
    for name in component:
        for source in matched[name]:
            if source not in members and source not in seen:
                seen.add(source)
                yield source


def _components(aggregated: list[str], matched: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """Strongly connected components of the aggregated roles (an edge from a role to each
    aggregated role it matches), each after every component it matches: Tarjan, iteratively."""
    edges = {name: [source for source in matched[name] if source in matched] for name in aggregated}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in aggregated:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(edges[root]))]
        while work:
            name, pending = work[-1]
            for source in pending:
                if source not in order:
                    order[source] = low[source] = len(order)
                    stack.append(source)
                    on_stack.add(source)
                    work.append((source, iter(edges[source])))
                    break
                if source in on_stack:
                    low[name] = min(low[name], order[source])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[name])
                if low[name] == order[name]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == name:
                            break
                    components.append(component)
    return components


def _matches(cluster_roles: Mapping[str, RoleDef], aggregated: list[str]) -> dict[str, tuple[str, ...]]:
    """For each aggregated role, the roles its selectors pick, selector by selector, names sorted.

    Roles often share their selectors (every ``aggregate-to-…`` role of a kind): each distinct
    list of selectors is matched against the roles once."""
    by_label: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, role in cluster_roles.items():
        for key in role.labels:
            value = label_value(role.labels, key) if isinstance(key, str) else None
            if value is not None:
                by_label[(key, value)].append(name)
    everyone = sorted(cluster_roles)
    picked_by: dict[tuple[LabelSelector, ...], tuple[str, ...]] = {}
    result = {}
    for name in aggregated:
        selectors = cluster_roles[name].aggregation or ()
        if selectors not in picked_by:
            picked: list[str] = []
            for selector in selectors:
                candidates = sorted(_candidates(selector, by_label, everyone))
                picked.extend(c for c in candidates if selector.matches(cluster_roles[c].labels))
            picked_by[selectors] = tuple(dict.fromkeys(picked))
        result[name] = tuple(source for source in picked_by[selectors] if source != name)
    return result


def _candidates(
    selector: LabelSelector, by_label: Mapping[tuple[str, str], list[str]], everyone: list[str]
) -> list[str]:
    pairs = selector.equality_pairs
    if not pairs:
        return everyone
    return min((by_label.get(pair, []) for pair in pairs), key=len)
