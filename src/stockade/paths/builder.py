"""Accumulates nodes and edges while the graph's parts are added; scope nodes are expanded last.

A permission that reaches "every pod of namespace shop" is one edge to the scope node
``scope:pods:shop``; the scope's own edges to each workload are added once, at the end, and only
for scopes something reaches. This keeps the graph linear in the cluster's size instead of
(grants × pods), which is what makes large clusters expensive for peer tools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from stockade.paths.catalogue import Attack
from stockade.paths.model import Edge, Fix, GraphNode, NodeKind

ALL_NAMESPACES = "*"

# Keys of the crown jewels every graph has, and of the control plane.
CLUSTER_ADMIN = "jewel:cluster-admin"
ALL_SECRETS = "jewel:all-secrets"
ANY_NODE = "jewel:nodes"
CONTROL_PLANE = "node:control-plane"

JEWEL_REASONS = {
    CLUSTER_ADMIN: "cluster-admin: every verb on every resource",
    ALL_SECRETS: "every Secret in the cluster",
    ANY_NODE: "root on a node",
}


def scope_key(what: str, namespace: str) -> str:
    return f"scope:{what}:{namespace}"


class GraphBuilder:
    def __init__(self) -> None:
        self.nodes: dict[str, GraphNode] = {}
        self.edges: list[Edge] = []
        self._edge_keys: set[tuple[str, str, Attack, tuple[Fix, ...], str]] = set()
        self.notes: list[str] = []

    def node(self, key: str, kind: NodeKind, label: str | None = None, namespace: str | None = None) -> str:
        if key not in self.nodes:
            self.nodes[key] = GraphNode(key, kind, label or key, namespace)
        return key

    def scope(self, what: str, namespace: str, label: str) -> str:
        return self.node(
            scope_key(what, namespace), NodeKind.SCOPE, label, None if namespace == ALL_NAMESPACES else namespace
        )

    def jewel(self, key: str, kind: NodeKind = NodeKind.JEWEL, label: str | None = None, why: str = "") -> str:
        self.node(key, kind, label)
        node = self.nodes[key]
        if not node.jewel:
            self.nodes[key] = replace(node, jewel=why or JEWEL_REASONS.get(key, "marked as a crown jewel"))
        return key

    def entry(self, key: str, why: str) -> None:
        node = self.nodes[key]
        if not node.entry:
            self.nodes[key] = replace(node, entry=why)

    def edge(self, source: str, target: str, attack: Attack, fixes: Iterable[Fix] = (), detail: str = "") -> None:
        if source == target:
            return
        fixed = tuple(sorted(set(fixes)))
        key = (source, target, attack, fixed, detail)
        if key in self._edge_keys:
            return
        self._edge_keys.add(key)
        self.edges.append(Edge(source, target, attack, fixed, detail))

    def expand_scopes(self, members: Callable[[str], Iterable[tuple[str, Attack]]], also: Iterable[str] = ()) -> None:
        """Add each scope's edges to its members (members may be scopes themselves); ``also``
        names other nodes that stand for a scope (the "every Secret" jewel)."""
        done: set[str] = set()
        extra = set(also)
        while True:
            pending = sorted(
                k for k, n in self.nodes.items() if (n.kind is NodeKind.SCOPE or k in extra) and k not in done
            )
            if not pending:
                return
            for key in pending:
                done.add(key)
                for member, attack in members(key):
                    self.edge(key, member, attack)
