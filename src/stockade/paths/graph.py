"""Build the attack graph of an inventory: the parts, then scopes, memberships and crown jewels.

`build_graph` is pure: the inventory and the scan's findings in, an `AttackGraph` out. The graph
is stored in rustworkx (chosen by measurement over networkx: benchmarks/RESULTS.md) with nodes
inserted in sorted key order and edges in a sorted order, so the same input gives the same graph,
the same indices and the same paths.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import rustworkx as rx

from stockade.model.finding import Finding
from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.podspec import is_map
from stockade.paths.builder import (
    ALL_NAMESPACES,
    ALL_SECRETS,
    ANY_NODE,
    CLUSTER_ADMIN,
    CONTROL_PLANE,
    GraphBuilder,
)
from stockade.paths.catalogue import Attack
from stockade.paths.exposure import Exposure
from stockade.paths.fixes import FixLookup, display
from stockade.paths.model import Edge, Fix, GraphNode, NodeKind
from stockade.paths.network import NetworkEdges
from stockade.paths.rbac_edges import RbacEdges
from stockade.paths.workloads import WorkloadEdges, add_nodes, read_workloads
from stockade.pss.namespaces import policy_from_labels
from stockade.rbac.index import RbacIndex
from stockade.rbac.model import Request, Subject

JEWEL_MARK = "stockade.io/crown-jewel"
STRUCTURAL_COST = 1e-3
SYSTEM_NAMESPACE = "kube-system"


@dataclass(frozen=True, slots=True)
class GraphOptions:
    jewels: Sequence[str] = ()  # node keys marked as crown jewels (besides labels/annotations)
    live: bool = False  # objects came from a live API server (aggregated roles already filled)


class AttackGraph:
    """Nodes and edges, indexed: node ``i`` is ``nodes[i]`` and edge ``i`` is ``edges[i]`` in the
    rustworkx graphs (``forward`` and ``reverse``, whose edge payloads are the edge's cost)."""

    def __init__(self, nodes: list[GraphNode], edges: list[Edge], notes: list[str] | None = None) -> None:
        self.nodes = nodes
        self.edges = edges
        self.notes = notes or []
        self.index = {node.key: i for i, node in enumerate(nodes)}
        self.sources = [self.index[e.source] for e in edges]
        self.targets = [self.index[e.target] for e in edges]
        self.costs = [edge_cost(e) for e in edges]
        self.graph = rx.PyDiGraph(multigraph=True)
        self.graph.add_nodes_from(range(len(nodes)))
        self.graph.add_edges_from(list(zip(self.sources, self.targets, self.costs, strict=True)))
        self.reverse = rx.PyDiGraph(multigraph=True)
        self.reverse.add_nodes_from(range(len(nodes)))
        self.reverse.add_edges_from(list(zip(self.targets, self.sources, self.costs, strict=True)))
        self.out_edges: list[list[int]] = [[] for _ in nodes]
        for i, source in enumerate(self.sources):
            self.out_edges[source].append(i)

    @property
    def entries(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.entry]

    @property
    def jewels(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.jewel]

    def node(self, key: str) -> GraphNode:
        return self.nodes[self.index[key]]

    def fixes(self) -> list[Fix]:
        return sorted({fix for edge in self.edges for fix in edge.fixes})


def edge_cost(edge: Edge) -> float:
    """Steps first, likelihood second: an attacker's step costs 1 plus a little for each doubt
    (-ln likelihood / 50, never a whole step); bookkeeping steps almost nothing."""
    if edge.structural:
        return STRUCTURAL_COST
    return 1.0 + (-math.log(max(edge.likelihood, 1e-6))) / 50


def build_graph(
    inventory: Inventory,
    findings: Iterable[Finding] = (),
    options: GraphOptions = GraphOptions(),
    index: RbacIndex | None = None,
) -> AttackGraph:
    index = index or RbacIndex.build(inventory, recompute_aggregation=not options.live, assume_defaults=True)
    fixes = FixLookup(findings)
    builder = GraphBuilder()
    builder.jewel(CLUSTER_ADMIN, label="cluster-admin")
    builder.jewel(ALL_SECRETS, label="every Secret")
    add_nodes(builder, inventory)
    builder.edge(CONTROL_PLANE, CLUSTER_ADMIN, Attack.CONTROL_PLANE)

    def can_read_logs(namespace: str, account: str) -> bool:
        request = Request("get", "pods/log", namespace=namespace)
        return bool(index.can_subject(Subject.service_account(namespace, account), request))

    workloads = read_workloads(inventory)
    workload_edges = WorkloadEdges(builder, inventory, fixes, can_read_logs)
    for workload in workloads:
        workload_edges.add(workload)
    rbac = RbacEdges(builder, inventory, index, fixes)
    rbac.add()
    network = NetworkEdges(builder, inventory, fixes, workloads)
    Exposure(builder, inventory, fixes, workloads, network).add()
    network.add()
    _add_secrets(builder, inventory)
    _node_identities(builder)
    scopes = _Scopes(builder, inventory, fixes, {w.namespace for w in workloads})
    builder.expand_scopes(scopes.members, also=(ALL_SECRETS,))
    rbac.add_memberships()
    _mark_jewels(builder, inventory, options.jewels)
    nodes = [builder.nodes[k] for k in sorted(builder.nodes)]
    edges = sorted(builder.edges, key=lambda e: (e.source, e.target, e.attack, e.fixes, e.detail))
    return AttackGraph(nodes, edges, builder.notes)


def _node_identities(builder: GraphBuilder) -> None:
    """Root on a node holds the kubelet's credentials: the node's user and the system:nodes group."""
    if "Group/system:nodes" in builder.nodes:
        builder.edge(ANY_NODE, "Group/system:nodes", Attack.NODE_CREDENTIALS)
    for key in sorted(k for k, n in builder.nodes.items() if n.kind is NodeKind.NODE and k.startswith("Node/")):
        user = f"User/system:node:{key.removeprefix('Node/')}"
        if user in builder.nodes:
            builder.edge(key, user, Attack.NODE_CREDENTIALS)


def _add_secrets(builder: GraphBuilder, inventory: Inventory) -> None:
    for secret in sorted(inventory.of_kind("Secret"), key=lambda r: (r.namespace or "", r.name)):
        namespace = inventory.effective_namespace(secret) or DEFAULT_NAMESPACE
        key = builder.node(display("Secret", namespace, secret.name), NodeKind.SECRET, None, namespace)
        if secret.raw.get("type") == "kubernetes.io/service-account-token":
            account = secret.annotations.get("kubernetes.io/service-account.name")
            if isinstance(account, str) and account:
                target = builder.node(display("ServiceAccount", namespace, account), NodeKind.IDENTITY, None, namespace)
                builder.edge(key, target, Attack.TOKEN_SECRET)


class _Scopes:
    """The members of each scope node, computed when a scope is reached."""

    def __init__(self, builder: GraphBuilder, inventory: Inventory, fixes: FixLookup, used: set[str]) -> None:
        self.builder = builder
        self.inventory = inventory
        self.fixes = fixes
        self.namespaces = sorted(set(inventory.namespaces) | used | {SYSTEM_NAMESPACE})
        self.by_kind: dict[tuple[NodeKind, str], list[str]] = defaultdict(list)
        for key, node in builder.nodes.items():
            if node.namespace is not None:
                self.by_kind[(node.kind, node.namespace)].append(key)
        for account in inventory.of_kind("ServiceAccount"):
            namespace = inventory.effective_namespace(account) or DEFAULT_NAMESPACE
            key = builder.node(display("ServiceAccount", namespace, account.name), NodeKind.IDENTITY, None, namespace)
            if key not in self.by_kind[(NodeKind.IDENTITY, namespace)]:
                self.by_kind[(NodeKind.IDENTITY, namespace)].append(key)
        self.namespace_objects = {ns.name: ns for ns in inventory.of_kind("Namespace")}

    def members(self, key: str) -> Iterator[tuple[str, Attack]]:
        if key == ALL_SECRETS:
            what, namespace = "secrets", ALL_NAMESPACES
        elif key.startswith("scope:"):
            _, what, namespace = key.split(":", 2)
        else:
            return  # a workload's connections: its edges are made where it is
        if namespace == ALL_NAMESPACES:
            yield from self._every_namespace(what)
            return
        b = self.builder
        if what == "pods":
            for member in sorted(k for k in self.by_kind[(NodeKind.WORKLOAD, namespace)]):
                yield member, Attack.SCOPE
        elif what == "secrets":
            for member in sorted(self.by_kind[(NodeKind.SECRET, namespace)]):
                yield member, Attack.SCOPE
        elif what == "serviceaccounts":
            default = b.node(display("ServiceAccount", namespace, "default"), NodeKind.IDENTITY, None, namespace)
            for member in sorted({*self.by_kind[(NodeKind.IDENTITY, namespace)], default}):
                if member.startswith("ServiceAccount/"):
                    yield member, Attack.SCOPE
        elif what == "create-pods":
            yield b.scope("serviceaccounts", namespace, f"ServiceAccounts in {namespace}"), Attack.POD_CREATE
            yield b.scope("secrets", namespace, f"Secrets in {namespace}"), Attack.POD_CREATE
            self._privileged_pods(key, namespace)
        elif what == "admin":
            yield b.scope("pods", namespace, f"pods in {namespace}"), Attack.POD_EXEC
            yield b.scope("secrets", namespace, f"Secrets in {namespace}"), Attack.READ_SECRETS
            yield b.scope("create-pods", namespace, f"new pods in {namespace}"), Attack.POD_CREATE

    def _every_namespace(self, what: str) -> Iterator[tuple[str, Attack]]:
        labels = {"pods": "pods in {}", "secrets": "Secrets in {}", "serviceaccounts": "ServiceAccounts in {}"}
        labels["create-pods"] = "new pods in {}"
        if what not in labels:
            return
        for namespace in self.namespaces:
            yield self.builder.scope(what, namespace, labels[what].format(namespace)), Attack.SCOPE

    def _privileged_pods(self, scope: str, namespace: str) -> None:
        """A privileged pod placed on a control-plane node, unless Pod Security refuses it there."""
        resource = self.namespace_objects.get(namespace)
        labels = resource.metadata.get("labels") if resource is not None else None
        policy = policy_from_labels(namespace, labels if is_map(labels) else {})
        if policy.enforce.level != "privileged":
            return
        ns_key = display("Namespace", None, namespace)
        rule = "PSS-021" if policy.enforce.labelled else "PSS-020"
        fix = self.fixes.fix(rule, ns_key, "metadata.labels")
        detail = f"namespace {namespace} does not enforce baseline"
        self.builder.edge(scope, CONTROL_PLANE, Attack.PRIVILEGED_POD, (fix,), detail)
        self.builder.edge(scope, ANY_NODE, Attack.PRIVILEGED_POD, (fix,), detail)


def _mark_jewels(builder: GraphBuilder, inventory: Inventory, keys: Sequence[str]) -> None:
    for resource in inventory.resources:
        marks = (resource.metadata.get("labels"), resource.metadata.get("annotations"))
        value = next((m.get(JEWEL_MARK) for m in marks if is_map(m) and JEWEL_MARK in m), None)
        if value is None or str(value).lower() in ("false", "no", "0"):
            continue
        namespace = inventory.effective_namespace(resource)
        key = display(resource.kind, namespace, resource.name)
        if key in builder.nodes:
            builder.jewel(key, builder.nodes[key].kind, why=f"marked {JEWEL_MARK}")
    for key in keys:
        if key in builder.nodes:
            builder.jewel(key, builder.nodes[key].kind, why="named with --jewel")
        else:
            builder.notes.append(f"--jewel {key}: no such node in the graph")
