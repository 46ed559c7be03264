"""East-west movement: which workloads' pods may open connections to which, under NetworkPolicies.

Kubernetes semantics: a pod is isolated for ingress (egress) when some NetworkPolicy selecting it
lists that policy type (``Ingress`` always, unless ``policyTypes`` says otherwise; ``Egress`` when
listed or when the policy has ``egress`` rules). An isolated pod accepts only what some rule of a
policy selecting it allows: peers by pod selector (the policy's namespace), namespace selector
(every pod there), both (pods matching in namespaces matching), and ports by number, name or range
(``endPort``). A connection needs both the source's egress and the target's ingress to allow it.
``ipBlock`` peers describe addresses outside the pod network and are not matched against pods.
Policies of other kinds (Cilium, Calico) are not evaluated here and are listed in the graph's notes.

To stay linear in size, pods that accept anything are reached through one ``scope:network:*``
node ("any pod"), and only the policy-restricted pairs become direct edges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.netpol import NAMESPACE_NAME_LABEL, NETWORK_POLICY_GROUPS, Peer, Policy, Port, read_policy
from stockade.model.podspec import is_map
from stockade.paths.builder import ALL_NAMESPACES, GraphBuilder
from stockade.paths.catalogue import Attack
from stockade.paths.fixes import FixLookup
from stockade.paths.model import NodeKind
from stockade.paths.workloads import ContainerInfo, Workload

OTHER_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy")


class NetworkEdges:
    def __init__(
        self, builder: GraphBuilder, inventory: Inventory, fixes: FixLookup, workloads: list[Workload]
    ) -> None:
        self.builder = builder
        self.fixes = fixes
        self.workloads = workloads
        self.namespace_labels: dict[str, Mapping[str, Any]] = {}
        for ns in inventory.of_kind("Namespace"):
            labels = ns.metadata.get("labels")
            self.namespace_labels[ns.name] = {**(labels if is_map(labels) else {}), NAMESPACE_NAME_LABEL: ns.name}
        self.policies: dict[str, list[Policy]] = defaultdict(list)
        for resource in inventory.of_kind("NetworkPolicy"):
            if resource.group not in NETWORK_POLICY_GROUPS:
                continue
            namespace = inventory.effective_namespace(resource) or DEFAULT_NAMESPACE
            policy = read_policy(resource, namespace)
            if policy is not None:
                self.policies[namespace].append(policy)
        others = list(inventory.of_kind(*OTHER_POLICY_KINDS)) + [
            r for r in inventory.of_kind("NetworkPolicy") if r.group not in NETWORK_POLICY_GROUPS
        ]
        if others:
            builder.notes.append(
                f"{len(others)} Cilium or Calico network policies are not evaluated: east-west edges ignore them"
            )

    def _ns_labels(self, namespace: str) -> Mapping[str, Any]:
        return self.namespace_labels.get(namespace, {NAMESPACE_NAME_LABEL: namespace})

    def _selecting(self, w: Workload, direction: str) -> list[Policy]:
        return [
            p
            for p in self.policies.get(w.namespace, ())
            if getattr(p, direction) is not None and p.selector.matches(w.labels)
        ]

    def _peer_matches(self, peer: Peer, policy_ns: str, other: Workload) -> bool:
        if peer.namespaces is None:
            if other.namespace != policy_ns:
                return False
        elif not peer.namespaces.matches(self._ns_labels(other.namespace)):
            return False
        return peer.pods is None or peer.pods.matches(other.labels)

    def _allows(self, policies: list[Policy], direction: str, other: Workload, port: Port | None) -> bool:
        for policy in policies:
            for rule in getattr(policy, direction) or ():
                if rule.peers is not None and not any(
                    self._peer_matches(p, policy.namespace, other) for p in rule.peers
                ):
                    continue
                if rule.allows_port(port):
                    return True
        return False

    def add(self) -> None:
        b = self.builder
        ingress = {w.key: self._selecting(w, "ingress") for w in self.workloads}
        egress = {w.key: self._selecting(w, "egress") for w in self.workloads}
        by_namespace: dict[str, list[Workload]] = defaultdict(list)
        for w in self.workloads:
            by_namespace[w.namespace].append(w)
        network = b.scope("network", ALL_NAMESPACES, "any pod's connections")
        for w in self.workloads:
            if not egress[w.key]:
                for container in w.containers:
                    b.edge(container.key, network, Attack.SCOPE, detail="its egress is not restricted")
            policies = ingress[w.key]
            fix = self.fixes.fix("NP-005", w.key)
            for container, detail in _listening(w):
                ports: tuple[Port | None, ...] = container.ports or (None,)
                if not policies:
                    b.edge(network, container.key, Attack.LATERAL, (fix,), f"no NetworkPolicy isolates it; {detail}")
                elif any(self._allows_anyone(policies, port) for port in ports):
                    b.edge(network, container.key, Attack.LATERAL, detail=f"a policy allows any pod; {detail}")
        # Pairs a policy restricts: candidates come from the policies' peers, not from every pair.
        for target in self.workloads:
            for policy in ingress[target.key]:
                for source in self._peers_of(policy, "ingress", by_namespace):
                    self._pair(source, target, ingress[target.key], egress[source.key])
        for source in self.workloads:
            for policy in egress[source.key]:
                for target in self._peers_of(policy, "egress", by_namespace):
                    self._pair(source, target, ingress[target.key], egress[source.key])

    def _allows_anyone(self, policies: list[Policy], port: Port | None) -> bool:
        return any(
            rule.peers is None and rule.allows_port(port) for policy in policies for rule in policy.ingress or ()
        )

    def accepts_external(self, w: Workload, port: Port | None, via_proxy: bool = False) -> bool:
        """Whether traffic from outside the pod network may reach ``w`` on ``port``: no policy
        isolates it, or a rule allows any peer or an ipBlock. ``via_proxy``: the traffic comes
        through an ingress controller or gateway whose pods are not in the objects read, so a rule
        allowing some other namespace counts too."""
        policies = self._selecting(w, "ingress")
        return not policies or any(
            (rule.peers is None or rule.external or (via_proxy and any(p.namespaces is not None for p in rule.peers)))
            and rule.allows_port(port)
            for policy in policies
            for rule in policy.ingress or ()
        )

    def _peers_of(self, policy: Policy, direction: str, by_namespace: Mapping[str, list[Workload]]) -> list[Workload]:
        """Workloads some rule of ``policy`` names as a peer (every workload for a rule with no peers)."""
        found: dict[str, Workload] = {}
        for rule in getattr(policy, direction) or ():
            if rule.peers is None:
                if direction == "egress":
                    return list(self.workloads)
                continue  # ingress from anyone: the scope node carries it
            for peer in rule.peers:
                if peer.namespaces is None:
                    namespaces = [policy.namespace]
                else:
                    selector = peer.namespaces
                    namespaces = [ns for ns in by_namespace if selector.matches(self._ns_labels(ns))]
                for ns in namespaces:
                    for w in by_namespace.get(ns, ()):
                        if peer.pods is None or peer.pods.matches(w.labels):
                            found[w.key] = w
        return [found[k] for k in sorted(found)]

    def _pair(self, source: Workload, target: Workload, ingress: list[Policy], egress: list[Policy]) -> None:
        if source is target:
            return
        for container, detail in _listening(target):
            ports: Iterable[Port | None] = container.ports or (None,)
            if any(
                (not ingress or self._allows(ingress, "ingress", source, port))
                and (not egress or self._allows(egress, "egress", target, port))
                for port in ports
            ):
                via = self._source_node(source)
                why = ", ".join(p.name for p in ingress) or "no ingress policy"
                self.builder.edge(via, container.key, Attack.LATERAL, detail=f"allowed by {why}; {detail}")

    def _source_node(self, w: Workload) -> str:
        key = f"net:{w.key}"
        if key not in self.builder.nodes:
            self.builder.node(key, NodeKind.SCOPE, f"connections from {w.key}", w.namespace)
            for container in w.containers:
                self.builder.edge(container.key, key, Attack.SCOPE, detail="its pod's connections")
        return key


def _listening(w: Workload) -> list[tuple[ContainerInfo, str]]:
    """Containers that accept connections: those declaring ports (all of them when none declares any)."""
    declared = [c for c in w.serving if c.ports]
    if declared:
        return [(c, "ports " + ", ".join(str(p.number or p.name) for p in c.ports)) for c in declared]
    return [(c, "no declared ports") for c in w.serving]
