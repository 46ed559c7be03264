"""ClusterRole aggregation: the one-pass computation gives the controller's steady state, the same
as recomputing every union round after round (the oracle), in near-linear time."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence

from stockade.model.resource import Origin
from stockade.model.selectors import parse_label_selector
from stockade.rbac.aggregate import SourcedRule, _components, _matches, _union, aggregate
from stockade.rbac.model import ObjectRef, PolicyRule
from stockade.rbac.parse import RoleDef
from tests.rbac.aggregate_oracle import aggregate_by_rounds
from tests.rbac.builders import cluster_role, index, rule

# CPU seconds, not wall time: the machine is shared. The previous loop took 11 s for 1,000 roles.
QUICK = 2.0


def role(
    name: str, verbs: Iterable[str] = (), labels: Iterable[str] = (), selects: Sequence[str] | None = None
) -> RoleDef:
    """ClusterRole ``name``: one pods rule per verb, labels ``key: "true"``, selectors on such labels."""
    aggregation = None
    if selects is not None:
        aggregation = tuple(parse_label_selector({"matchLabels": {key: "true"}}) for key in selects)
    rules = tuple(PolicyRule(verbs=(verb,), resources=("pods",)) for verb in verbs)
    ref = ObjectRef("ClusterRole", None, name)
    return RoleDef(ref, rules, dict.fromkeys(labels, "true"), aggregation, Origin("roles.yaml", 0, 1))


def roles(*defs: RoleDef) -> dict[str, RoleDef]:
    return {d.ref.name: d for d in defs}


def summary(computed: Mapping[str, tuple[SourcedRule, ...]]) -> dict[str, list[tuple[str, str, int]]]:
    return {name: [(s.rule.verbs[0], s.source.name, s.index) for s in rules] for name, rules in computed.items()}


def is_steady(cluster_roles: Mapping[str, RoleDef], computed: Mapping[str, tuple[SourcedRule, ...]]) -> bool:
    """Whether the controller would change nothing: each role is exactly the union of its inputs."""

    def rules_of(name: str) -> tuple[SourcedRule, ...]:
        if name in computed:
            return computed[name]
        declared = cluster_roles[name]
        return tuple(SourcedRule(rule, declared.ref, i) for i, rule in enumerate(declared.rules))

    matched = _matches(cluster_roles, sorted(computed))
    return all(_union(rules_of(source) for source in matched[name]) == computed[name] for name in computed)


def timed(cluster_roles: Mapping[str, RoleDef]) -> tuple[dict[str, tuple[SourcedRule, ...]], float]:
    started = time.process_time()
    computed = aggregate(cluster_roles)
    return computed, time.process_time() - started


def chain(length: int) -> dict[str, RoleDef]:
    """agg-0000 ← agg-0001 ← …: each aggregated role selects the next one by name and a plain role
    of its own; inputs sort after their users, the order the round-by-round loop handled worst."""
    defs = []
    for i in range(length):
        last = i == length - 1
        defs.append(
            role(f"agg-{i:04}", labels=[f"level-{i}"], selects=[f"own-{i}"] + ([] if last else [f"level-{i + 1}"]))
        )
        defs.append(role(f"plain-{i:04}", verbs=[f"v{i}"], labels=[f"own-{i}"]))
    return roles(*defs)


def fan(width: int) -> dict[str, RoleDef]:
    """A top role over ``width`` aggregated roles, each over a plain role and the shared ones."""
    defs = [role("top", selects=["member"])]
    for i in range(width):
        defs.append(role(f"agg-{i:04}", labels=["member"], selects=[f"own-{i}", "shared"]))
        defs.append(role(f"plain-{i:04}", verbs=[f"v{i}"], labels=[f"own-{i}"]))
    defs.extend(role(f"shared-{i}", verbs=["get", f"s{i}"], labels=["shared"]) for i in range(3))
    return roles(*defs)


def mesh(size: int, feeders: int) -> dict[str, RoleDef]:
    """``size`` aggregated roles that all carry and select one label (one big cycle), fed by plain roles."""
    defs = [role(f"agg-{i:04}", verbs=["ignored"], labels=["all"], selects=["all"]) for i in range(size)]
    defs.extend(role(f"feed-{i}", verbs=[f"f{i}"], labels=["all"]) for i in range(feeders))
    return roles(*defs)


def test_small_chain_and_fan_give_what_the_rounds_give() -> None:
    for cluster_roles in (chain(6), fan(5)):
        assert aggregate(cluster_roles) == aggregate_by_rounds(cluster_roles)
    assert summary(aggregate(chain(3)))["agg-0000"] == [
        ("v0", "plain-0000", 0),
        ("v1", "plain-0001", 0),
        ("v2", "plain-0002", 0),
    ]


def test_a_chain_of_1000_aggregated_roles_is_quick() -> None:
    computed, seconds = timed(chain(1000))
    assert seconds < QUICK
    assert [s.rule.verbs[0] for s in computed["agg-0000"]] == [f"v{i}" for i in range(1000)]
    assert [s.source.name for s in computed["agg-0998"]] == ["plain-0998", "plain-0999"]


def test_a_wide_fan_of_1000_aggregated_roles_is_quick() -> None:
    computed, seconds = timed(fan(1000))
    assert seconds < QUICK
    assert summary(computed)["agg-0007"] == [
        ("v7", "plain-0007", 0),
        ("get", "shared-0", 0),
        ("s0", "shared-0", 1),
        ("s1", "shared-1", 1),
        ("s2", "shared-2", 1),
    ]
    top = [s.rule.verbs[0] for s in computed["top"]]
    assert top[:6] == ["v0", "get", "s0", "s1", "s2", "v1"] and len(top) == 1004


def test_1000_aggregated_roles_selecting_each_other_are_quick() -> None:
    computed, seconds = timed(mesh(1000, feeders=5))
    assert seconds < QUICK
    feeds = [(f"f{i}", f"feed-{i}", 0) for i in range(5)]
    assert all(summary({name: rules})[name] == feeds for name, rules in computed.items())


def test_cycles_are_steady_and_least() -> None:
    # Two roles matching each other, each fed by a plain role.
    pair = roles(
        role("a", labels=["b-in"], selects=["a-in", "pa"]),
        role("b", labels=["a-in"], selects=["b-in", "pb"]),
        role("pa", verbs=["get"], labels=["pa"]),
        role("pb", verbs=["list", "get"], labels=["pb"]),
    )
    computed = aggregate(pair)
    assert computed == aggregate_by_rounds(pair)
    assert summary(computed) == {
        "a": [("get", "pa", 0), ("list", "pb", 0)],
        "b": [("get", "pa", 0), ("list", "pb", 0)],
    }
    # Inputs before the cycle come first: a steady state for each role.
    before = roles(
        role("a", labels=["b-in"], selects=["pa", "a-in"]),
        role("b", labels=["a-in"], selects=["pb", "b-in"]),
        role("pa", verbs=["get"], labels=["pa"]),
        role("pb", verbs=["list"], labels=["pb"]),
    )
    assert summary(aggregate(before)) == {
        "a": [("get", "pa", 0), ("list", "pb", 0)],
        "b": [("list", "pb", 0), ("get", "pa", 0)],
    }
    assert aggregate(before) == aggregate_by_rounds(before)
    # Nothing real flows into a cycle of aggregated roles alone: the least fixed point is empty.
    alone = roles(*(role(f"r{i}", verbs=["declared"], labels=[f"l{i}"], selects=[f"l{(i + 1) % 3}"]) for i in range(3)))
    assert aggregate(alone) == {"r0": (), "r1": (), "r2": ()}


def random_roles(rng: random.Random) -> dict[str, RoleDef]:
    labels = [f"l{i}" for i in range(rng.randint(2, 5))]
    defs = []
    for i in range(rng.randint(2, 9)):
        selects = rng.sample(labels, rng.randint(1, 2)) if rng.random() < 0.6 else None
        verbs = rng.sample("abcdefgh", rng.randint(0, 3))
        defs.append(role(f"r{i}", verbs=verbs, labels=rng.sample(labels, rng.randint(0, 2)), selects=selects))
    return roles(*defs)


def test_random_role_graphs_agree_with_the_rounds() -> None:
    """Always a steady state with the rounds' rules; the very same result where nothing cycles.

    (Inside a cycle several orders are steady, and the rounds can even stop while still swapping.)"""
    rng = random.Random(20261204)
    acyclic = 0
    for _ in range(400):
        cluster_roles = random_roles(rng)
        computed, by_rounds = aggregate(cluster_roles), aggregate_by_rounds(cluster_roles)
        assert is_steady(cluster_roles, computed)
        assert {n: {s.rule for s in r} for n, r in computed.items()} == {
            n: {s.rule for s in r} for n, r in by_rounds.items()
        }
        aggregated = sorted(computed)
        if all(len(c) == 1 for c in _components(aggregated, _matches(cluster_roles, aggregated))):
            acyclic += 1
            assert computed == by_rounds
    assert acyclic > 100  # the comparison above really ran


def test_issue_reproduction_1000_aggregated_cluster_roles_through_the_index() -> None:
    """The report: 1,000 aggregated ClusterRoles (about 250 KB of YAML) took 11 s to index."""
    raws = []
    for i in range(1000):
        selectors = [{"matchLabels": {f"own-{i}": "true"}}]
        if i < 999:
            selectors.append({"matchLabels": {f"level-{i + 1}": "true"}})
        raws.append(cluster_role(f"agg-{i:04}", labels={f"level-{i}": "true"}, selectors=selectors))
        raws.append(cluster_role(f"plain-{i:04}", rule(["get"], [f"r{i}"]), labels={f"own-{i}": "true"}))
    started = time.process_time()
    built = index(raws)
    assert time.process_time() - started < 2 * QUICK  # parsing 2,000 roles included
    top = built.rules_of(ObjectRef("ClusterRole", None, "agg-0000"))
    assert top is not None
    assert [r.resources for r in top] == [(f"r{i}",) for i in range(1000)]
