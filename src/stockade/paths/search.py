"""Questions asked of the attack graph: paths to the crown jewels, blast radius, who reaches what.

Distances come from one Dijkstra per crown jewel over the reversed graph (rustworkx), so the best
path from every node to every jewel is known at once. Costs put steps first and likelihood second:
an attacker's step costs 1 plus a little for each doubt (-ln likelihood / 50, never a whole step),
bookkeeping steps (scope, membership, a binding held) almost nothing. The path itself is then read
forward from the start, choosing at each node the edge that stays on a shortest route, with ties
broken by node key and edge order: the same graph always gives the same paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import rustworkx as rx

from stockade._gc import collector_paused
from stockade.paths.graph import AttackGraph
from stockade.paths.model import Edge, Fix, NodeKind

# Candidates tried per greedy step when none disconnects a pair (bounds the time on dense graphs).
MAX_TRIES = 40
TIE = 1e-6
DEFAULT_MAX_STEPS = 12
NO_EDGES: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class AttackPath:
    start: str
    goal: str
    edges: tuple[Edge, ...]

    @property
    def steps(self) -> int:
        """Attacker actions on the path (scope and membership steps are bookkeeping)."""
        return sum(1 for e in self.edges if not e.structural)

    @property
    def likelihood(self) -> float:
        value = 1.0
        for edge in self.edges:
            value *= edge.likelihood
        return value

    @property
    def fixes(self) -> tuple[Fix, ...]:
        return tuple(sorted({f for e in self.edges for f in e.fixes}))

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.start, *(e.target for e in self.edges))

    def sort_key(self) -> tuple[int, float, str, str]:
        return (self.steps, -round(self.likelihood, 12), self.start, self.goal)


class Distances:
    """Shortest costs from every node to each goal, and path reading, with ``removed`` edges gone."""

    def __init__(self, graph: AttackGraph, removed: frozenset[int] = NO_EDGES) -> None:
        self.graph = graph
        self.removed = removed
        if removed:
            self._reverse = graph.reverse.copy()
            for i in removed:  # edge indices are stable in rustworkx: edge i is graph.edges[i]
                self._reverse.remove_edge_from_index(i)
        else:
            self._reverse = graph.reverse
        self._to: dict[int, dict[int, float]] = {}
        self._next: dict[tuple[int, int], int | None] = {}

    def to(self, goal: str) -> dict[int, float]:
        """Node index → cost of its best path to ``goal`` (the goal itself at 0)."""
        target = self.graph.index[goal]
        found = self._to.get(target)
        if found is None:
            lengths = rx.digraph_dijkstra_shortest_path_lengths(self._reverse, target, float)
            found = dict(lengths.items())
            found[target] = 0.0
            self._to[target] = found
        return found

    def _step(self, node: int, target: int, dist: dict[int, float]) -> int | None:
        """The edge to take from ``node`` toward ``target``: on a best route, lowest (target key, index)."""
        key = (node, target)
        if key in self._next:
            return self._next[key]
        graph = self.graph
        here = dist[node]
        best: tuple[str, int] | None = None
        for i in graph.out_edges[node]:
            if i in self.removed:
                continue
            nxt = graph.targets[i]
            there = dist.get(nxt)
            if there is not None and abs(graph.costs[i] + there - here) <= TIE:
                candidate = (graph.nodes[nxt].key, i)
                if best is None or candidate < best:
                    best = candidate
        chosen = None if best is None else best[1]
        self._next[key] = chosen
        return chosen

    def path(self, start: str, goal: str) -> AttackPath | None:
        dist = self.to(goal)
        graph = self.graph
        node = graph.index[start]
        if node not in dist:
            return None
        target = graph.index[goal]
        edges: list[Edge] = []
        seen = {node}
        while node != target:
            step = self._step(node, target, dist)
            if step is None:
                return None  # float drift: no edge stays on the route (never seen; kept safe)
            edges.append(graph.edges[step])
            node = graph.targets[step]
            if node in seen:
                return None
            seen.add(node)
        return AttackPath(start, goal, tuple(edges))


@dataclass(frozen=True, slots=True)
class Remediation:
    """The fixes chosen, in order, and how many entry-to-jewel pairs remain after each."""

    fixes: tuple[Fix, ...]
    pairs_before: int
    remaining_after: tuple[int, ...]
    method: str = (
        "greedy: each step takes the fix that disconnects the most remaining (entry point, crown jewel) pairs, "
        "measured by recomputing reachability; when no single fix disconnects one, the fix on the most "
        "shortest paths. The fewest fixes that cut every pair is a multicut problem with shared fixes "
        "(NP-hard), so the set is not proven minimal; every percentage is measured, not estimated."
    )

    @property
    def pairs_after(self) -> int:
        return self.remaining_after[-1] if self.remaining_after else self.pairs_before

    @property
    def cut_share(self) -> float:
        if not self.pairs_before:
            return 0.0
        return (self.pairs_before - self.pairs_after) / self.pairs_before


@dataclass(frozen=True, slots=True)
class BlastRadius:
    start: str
    reached: dict[NodeKind, int]
    paths: tuple[AttackPath, ...]  # to each crown jewel it reaches


@dataclass(frozen=True, slots=True)
class Reachers:
    goal: str
    paths: tuple[AttackPath, ...]  # from each entry point, identity and workload that reaches it


class Analysis:
    """Every answer about one graph; each is computed on first use."""

    def __init__(
        self, graph: AttackGraph, max_steps: int = DEFAULT_MAX_STEPS, removed: frozenset[int] = NO_EDGES
    ) -> None:
        self.graph = graph
        self.max_steps = max_steps
        self.removed = removed
        self.distances = Distances(graph, removed)
        self._remediations: dict[int, Remediation] = {}

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """(entry, jewel) pairs with any path between them."""
        return connected_pairs(self.graph, self.removed)

    @cached_property
    def all_paths(self) -> list[AttackPath]:
        """The best path of each connected pair, ranked: fewest steps, then most likely."""
        found = [self.distances.path(start, goal) for start, goal in self.pairs]
        return sorted((p for p in found if p is not None), key=AttackPath.sort_key)

    @property
    def paths(self) -> list[AttackPath]:
        """`all_paths` within ``max_steps``."""
        return [p for p in self.all_paths if p.steps <= self.max_steps]

    @property
    def longer(self) -> int:
        """Connected pairs whose best path is longer than ``max_steps`` (not listed)."""
        return len(self.pairs) - len(self.paths)

    @cached_property
    def risk(self) -> dict[tuple[str, str, str], int]:
        """Fix key → how many ranked paths it lies on."""
        counts: dict[tuple[str, str, str], int] = {}
        for path in self.paths:
            for fix in path.fixes:
                counts[fix.key] = counts.get(fix.key, 0) + 1
        return counts

    def blast_radius(self, start: str) -> BlastRadius:
        graph = self.graph
        reached = rx.descendants(_without(graph.graph, self.removed), graph.index[start])
        counts: dict[NodeKind, int] = {}
        for i in sorted(reached):
            kind = graph.nodes[i].kind
            counts[kind] = counts.get(kind, 0) + 1
        paths = []
        for jewel in graph.jewels:
            if jewel.key != start and graph.index[jewel.key] in reached:
                path = self.distances.path(start, jewel.key)
                if path is not None:
                    paths.append(path)
        return BlastRadius(start, counts, tuple(sorted(paths, key=AttackPath.sort_key)))

    def reachers(
        self, goal: str, kinds: Sequence[NodeKind] = (NodeKind.ENTRY, NodeKind.IDENTITY, NodeKind.WORKLOAD)
    ) -> Reachers:
        graph = self.graph
        dist = self.distances.to(goal)
        paths = []
        for i in sorted(dist):
            node = graph.nodes[i]
            if node.key == goal or not (node.kind in kinds or node.entry):
                continue
            path = self.distances.path(node.key, goal)
            if path is not None:
                paths.append(path)
        return Reachers(goal, tuple(sorted(paths, key=AttackPath.sort_key)))

    def remediation(self, max_fixes: int = 10) -> Remediation:
        found = self._remediations.get(max_fixes)
        if found is None:
            with collector_paused():
                found = greedy_remediation(self.graph, self.all_paths, len(self.pairs), max_fixes)
            self._remediations[max_fixes] = found
        return found


def _without(graph: rx.PyDiGraph, removed: frozenset[int]) -> rx.PyDiGraph:
    if not removed:
        return graph
    work = graph.copy()
    for i in removed:
        work.remove_edge_from_index(i)
    return work


def connected_pairs(graph: AttackGraph, removed: frozenset[int] = NO_EDGES) -> list[tuple[str, str]]:
    """(entry, jewel) pairs with some path between them once ``removed`` edges are gone."""
    work = _without(graph.graph, removed)
    entries = {graph.index[n.key] for n in graph.entries}
    pairs: list[tuple[str, str]] = []
    for jewel in graph.jewels:
        reaching = rx.ancestors(work, graph.index[jewel.key]) & entries
        pairs.extend((graph.nodes[i].key, jewel.key) for i in reaching)
    return sorted(pairs)


def greedy_remediation(graph: AttackGraph, paths: Iterable[AttackPath], pairs: int, max_fixes: int) -> Remediation:
    """Pick fixes one at a time; see `Remediation.method`. Lazy evaluation: a fix can disconnect at
    most the pairs whose current best path uses it, so candidates are tried in that order and the
    search stops once no untried candidate could beat the best found."""
    by_fix: dict[tuple[str, str, str], set[int]] = {}
    fix_of: dict[tuple[str, str, str], Fix] = {}
    for i, edge in enumerate(graph.edges):
        for fix in edge.fixes:
            by_fix.setdefault(fix.key, set()).add(i)
            fix_of[fix.key] = fix
    removed: frozenset[int] = NO_EDGES
    chosen: list[Fix] = []
    remaining_after: list[int] = []
    remaining = pairs
    current = list(paths)
    while remaining and len(chosen) < max_fixes and current:
        on_paths: dict[tuple[str, str, str], int] = {}
        for path in current:
            for fix in path.fixes:
                on_paths[fix.key] = on_paths.get(fix.key, 0) + 1
        if not on_paths:
            break  # the remaining paths need no finding: nothing here can cut them
        ranked = sorted(on_paths, key=lambda k: (-on_paths[k], k))
        best_key: tuple[str, str, str] | None = None
        best_left = remaining
        for tried, key in enumerate(ranked):
            if best_key is not None and remaining - on_paths[key] >= best_left:
                break  # it cannot disconnect more pairs than the best paths it is on
            if tried >= MAX_TRIES:
                break
            left = len(connected_pairs(graph, removed | by_fix[key]))
            if left < best_left:
                best_key, best_left = key, left
        if best_key is None:
            best_key = ranked[0]  # nothing disconnects alone: lengthen the most paths
        chosen.append(fix_of[best_key])
        removed = removed | by_fix[best_key]
        after = Analysis(graph, removed=removed)
        remaining = len(after.pairs)
        remaining_after.append(remaining)
        current = after.all_paths
    return Remediation(tuple(chosen), pairs, tuple(remaining_after))
