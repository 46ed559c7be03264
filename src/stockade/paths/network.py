"""East-west movement: which workloads' pods may open connections to which.

The answer is `stockade.network`'s (the engine behind ``stockade network reach``): NetworkPolicies
with Kubernetes' semantics, Cilium policies where they can be evaluated, and Istio authorization on
top. Policies it does not evaluate are listed in the graph's notes.

To stay linear in size, pods that accept anything are reached through one ``scope:network:*``
node ("any pod"), which every pod whose egress is not restricted reaches; only the pairs policies
restrict become direct edges.
"""

from __future__ import annotations

from stockade.model.inventory import Inventory
from stockade.model.netpol import Port
from stockade.network.reach import Reachability, bits
from stockade.paths.builder import ALL_NAMESPACES, GraphBuilder
from stockade.paths.catalogue import Attack
from stockade.paths.fixes import FixLookup
from stockade.paths.model import NodeKind
from stockade.paths.workloads import ContainerInfo, Workload


class NetworkEdges:
    def __init__(
        self, builder: GraphBuilder, inventory: Inventory, fixes: FixLookup, workloads: list[Workload]
    ) -> None:
        self.builder = builder
        self.fixes = fixes
        self.workloads = workloads
        self.by_key = {w.key: w for w in workloads}
        self.reach = Reachability(inventory)
        outside = sorted({p.key for p in self.reach.outside.policies})
        if outside:
            builder.notes.append(
                f"{len(outside)} network policies are not evaluated (Calico, admin, Linkerd, or Cilium with L7, deny "
                "or FQDN rules): east-west edges ignore them"
            )

    def add(self) -> None:
        b = self.builder
        reach = self.reach
        network = b.scope("network", ALL_NAMESPACES, "any pod's connections")
        for w in self.workloads:
            target = reach.index.get(w.key)
            if target is None:
                continue
            if not reach.egress_isolated >> target & 1:
                for container in w.containers:
                    b.edge(container.key, network, Attack.SCOPE, detail="its egress is not restricted")
            isolated = bool(reach.ingress_isolated >> target & 1) or reach.mesh.governs(target)
            fix = self.fixes.fix("NP-005", w.key)
            why = ", ".join(p.name for p in reach.ingress_policies(target)) or "no ingress policy"
            for container, detail in _listening(w):
                for port in container.ports or (None,):
                    ingress = reach.ingress_sources(target, port)
                    if ingress == reach.everyone:
                        if isolated:
                            b.edge(network, container.key, Attack.LATERAL, detail=f"a policy allows any pod; {detail}")
                        else:
                            b.edge(
                                network,
                                container.key,
                                Attack.LATERAL,
                                (fix,),
                                f"no NetworkPolicy isolates it; {detail}",
                            )
                        # Pods whose egress is restricted do not go through the "any pod" node.
                        direct = reach.egress_sources(target, port) & reach.egress_isolated
                    else:
                        direct = ingress & reach.egress_sources(target, port)
                    for source in bits(direct):
                        if source != target:
                            via = self._source_node(self.by_key[reach.endpoints[source].key])
                            b.edge(via, container.key, Attack.LATERAL, detail=f"allowed by {why}; {detail}")

    def accepts_external(self, w: Workload, port: Port | None, via_proxy: bool = False) -> bool:
        """Whether traffic from outside the pod network may reach ``w`` on ``port``: no policy
        isolates it, or a rule allows any peer or an ipBlock. ``via_proxy``: the traffic comes
        through an ingress controller or gateway whose pods are not in the objects read, so a rule
        allowing some other namespace counts too."""
        target = self.reach.index.get(w.key)
        policies = self.reach.ingress_policies(target) if target is not None else []
        return not policies or any(
            (rule.peers is None or rule.external or (via_proxy and any(p.namespaces is not None for p in rule.peers)))
            and rule.allows_port(port)
            for policy in policies
            for rule in policy.ingress or ()
        )

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
