"""Who can open a connection to whom, under NetworkPolicies, and why.

One endpoint per pod template (a Deployment's pods are alike), with its namespace, labels and
declared ports. A connection from A to B on a port needs both sides: B's ingress (no policy
isolates B, or a rule of a policy selecting B allows A on that port) and A's egress (the same,
the other way). The semantics are those of :mod:`stockade.model.netpol`.

Sets of endpoints are Python integers used as bit sets (bit *i* is endpoint *i*), so that "every
source allowed to reach this port" is a few ORs and ANDs per rule, not a loop over every pair:
2,000 pods and 1,000 policies take well under a second.

Policies Stockade does not evaluate (Cilium clusterwide, Calico global) are not ignored silently:
every endpoint they may select carries a note saying its answer is unknown.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.netpol import (
    NAMESPACE_NAME_LABEL,
    NETWORK_POLICY_GROUPS,
    NotEvaluated,
    Peer,
    Policy,
    PolicyRule,
    Port,
    container_ports,
    read_cilium_policy,
    read_policy,
)
from stockade.model.podspec import is_map
from stockade.model.selectors import LabelSelector
from stockade.network.mesh import MeshAuthorization
from stockade.network.outside import OutsidePolicies, read_outside_policies

ANY_PORT = None  # an endpoint that declares no port: any port it may listen on


@dataclass(frozen=True, slots=True)
class Endpoint:
    key: str  # Kind/namespace/name of what carries the pod template
    namespace: str
    labels: Mapping[str, Any]
    ports: tuple[Port, ...]
    service_account: str = "default"
    annotations: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a connection: allowed or not, and why (policy keys and rule numbers, or the default)."""

    allowed: bool
    reason: str
    policies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    source: str
    target: str
    port: str  # the port's label, or "any"
    egress: Side
    ingress: Side
    unknown: tuple[str, ...] = ()  # policies not evaluated that may change the answer
    mesh: Side | None = None  # the service mesh's authorization, when the target is in a mesh

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed and (self.mesh is None or self.mesh.allowed)


def read_endpoints(inventory: Inventory) -> list[Endpoint]:
    endpoints: dict[str, Endpoint] = {}
    for template in inventory.pod_templates:
        carrier = template.carrier
        namespace = inventory.effective_namespace(carrier) or DEFAULT_NAMESPACE
        key = f"{carrier.kind}/{namespace}/{carrier.name}"
        labels = template.metadata.get("labels")
        annotations = template.metadata.get("annotations")
        ports: list[Port] = []
        for ref in template.containers():
            if ref.list_name == "containers":
                ports.extend(p for p in container_ports(ref.spec) if p not in ports)
        account = template.spec.get("serviceAccountName") or template.spec.get("serviceAccount")
        endpoints[key] = Endpoint(
            key,
            namespace,
            labels if is_map(labels) else {},
            tuple(ports),
            account if isinstance(account, str) and account else "default",
            annotations if is_map(annotations) else {},
        )
    return [endpoints[k] for k in sorted(endpoints)]


class Reachability:
    """The NetworkPolicy verdict for every pair of endpoints, computed per target and port."""

    def __init__(self, inventory: Inventory) -> None:
        self.endpoints = read_endpoints(inventory)
        self.index = {e.key: i for i, e in enumerate(self.endpoints)}
        self.everyone = (1 << len(self.endpoints)) - 1
        self.namespace_labels: dict[str, Mapping[str, Any]] = {}
        for ns in inventory.of_kind("Namespace"):
            labels = ns.metadata.get("labels")
            self.namespace_labels[ns.name] = {**(labels if is_map(labels) else {}), NAMESPACE_NAME_LABEL: ns.name}
        self.policies: list[Policy] = []
        unreadable: list[str] = []  # policies whose spec or pod selector the API server would refuse
        for resource in inventory.of_kind("NetworkPolicy"):
            if resource.group in NETWORK_POLICY_GROUPS:
                home = inventory.effective_namespace(resource) or DEFAULT_NAMESPACE
                policy = read_policy(resource, home)
                if policy is None:
                    unreadable.append(f"NetworkPolicy/{home}/{resource.name}")
                else:
                    self.policies.append(policy)
        evaluated: set[str] = set()
        for resource in inventory.of_kind("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
            namespace = inventory.effective_namespace(resource) if resource.kind == "CiliumNetworkPolicy" else None
            try:
                converted = read_cilium_policy(resource, namespace or None)
            except NotEvaluated:
                continue  # listed by read_outside_policies: its answers are unknown
            self.policies.extend(converted)
            evaluated.add("/".join(x for x in (resource.kind, namespace, resource.name) if x))
        self.policies.sort(key=lambda p: p.key)
        self.outside: OutsidePolicies = read_outside_policies(inventory, frozenset(evaluated), unreadable)
        self.mesh = MeshAuthorization(inventory, self.endpoints, self.namespace_labels)
        self._by_namespace: dict[str, int] = defaultdict(int)
        self._by_label: dict[tuple[str, str], int] = defaultdict(int)
        for i, endpoint in enumerate(self.endpoints):
            self._by_namespace[endpoint.namespace] |= 1 << i
            for key, value in endpoint.labels.items():
                self._by_label[(str(key), str(value))] |= 1 << i
        self._selector_masks: dict[LabelSelector, int] = {}
        self._namespace_masks: dict[LabelSelector, int] = {}
        self._peer_masks: dict[tuple[Peer, str], int] = {}
        self.selected = {id(p): self._selector_mask(p.selector) & self._scope_mask(p) for p in self.policies}
        self.ingress_isolated = 0
        self.egress_isolated = 0
        self._ingress_of: dict[int, list[Policy]] = defaultdict(list)
        self._egress_of: dict[int, list[Policy]] = defaultdict(list)
        for policy in self.policies:
            mask = self.selected[id(policy)]
            if policy.ingress is not None:
                self.ingress_isolated |= mask
            if policy.egress is not None:
                self.egress_isolated |= mask
            for i in bits(mask):
                if policy.ingress is not None:
                    self._ingress_of[i].append(policy)
                if policy.egress is not None:
                    self._egress_of[i].append(policy)
        # Egress rules by the endpoints they let their policy's pods reach: rules to anyone apply to
        # every target, the others are filed under each endpoint they name (usually a few).
        self._egress_to_all: list[tuple[Policy, PolicyRule]] = []
        self._egress_to: dict[int, list[tuple[Policy, PolicyRule]]] = defaultdict(list)
        for policy in self.policies:
            for rule in policy.egress or ():
                targets = self._rule_mask(rule, policy.namespace)
                if targets == self.everyone:
                    self._egress_to_all.append((policy, rule))
                else:
                    for i in bits(targets):
                        self._egress_to[i].append((policy, rule))

    # -- sets of endpoints --------------------------------------------------------------------
    def _scope_mask(self, policy: Policy) -> int:
        """The endpoints a policy may select: its namespace's, or a cluster-wide policy's namespaces'."""
        if policy.across is not None:
            return self._namespaces_mask(policy.across)
        return self._by_namespace.get(policy.namespace, 0)

    def _selector_mask(self, selector: LabelSelector) -> int:
        found = self._selector_masks.get(selector)
        if found is not None:
            return found
        pairs = selector.equality_pairs
        candidates = self.everyone
        for pair in pairs:
            candidates &= self._by_label.get(pair, 0)
        if len(pairs) != len(selector.requirements):  # set-based requirements: check each candidate
            mask = 0
            for i in bits(candidates):
                if selector.matches(self.endpoints[i].labels):
                    mask |= 1 << i
            candidates = mask
        self._selector_masks[selector] = candidates
        return candidates

    def _namespaces_mask(self, selector: LabelSelector) -> int:
        found = self._namespace_masks.get(selector)
        if found is None:
            found = 0
            for namespace, mask in self._by_namespace.items():
                if selector.matches(self.labels_of(namespace)):
                    found |= mask
            self._namespace_masks[selector] = found
        return found

    def _peer_mask(self, peer: Peer, policy_namespace: str) -> int:
        key = (peer, policy_namespace)
        found = self._peer_masks.get(key)
        if found is None:
            if peer.namespaces is None:
                where = self._by_namespace.get(policy_namespace, 0)
            else:
                where = self._namespaces_mask(peer.namespaces)
            found = where if peer.pods is None else where & self._selector_mask(peer.pods)
            self._peer_masks[key] = found
        return found

    def _rule_mask(self, rule: PolicyRule, policy_namespace: str) -> int:
        if rule.peers is None:
            return self.everyone
        mask = 0
        for peer in rule.peers:
            mask |= self._peer_mask(peer, policy_namespace)
        return mask

    # -- verdicts -------------------------------------------------------------------------------
    def ports_of(self, target: int) -> tuple[Port | None, ...]:
        return self.endpoints[target].ports or (ANY_PORT,)

    def sources(self, target: int, port: Port | None) -> int:
        """Every endpoint that may open a connection to ``target`` on ``port``."""
        allowed = self.ingress_sources(target, port)
        return allowed & self.egress_sources(target, port) if allowed else 0

    def ingress_sources(self, target: int, port: Port | None) -> int:
        """The endpoints ``target``'s side lets in on ``port``: its NetworkPolicies, then the mesh."""
        if self.ingress_isolated >> target & 1:
            allowed = 0
            for policy in self._ingress_of[target]:
                for rule in policy.ingress or ():
                    if rule.allows_port(port):
                        allowed |= self._rule_mask(rule, policy.namespace)
        else:
            allowed = self.everyone
        if allowed and self.mesh.governs(target):
            allowed &= self.mesh.sources(target, port.number if port is not None else None)
        return allowed

    def egress_sources(self, target: int, port: Port | None) -> int:
        """The endpoints whose own egress lets them connect to ``target`` on ``port``."""
        allowed = self.everyone & ~self.egress_isolated
        for policy, rule in (*self._egress_to_all, *self._egress_to.get(target, ())):
            if rule.allows_port(port):
                allowed |= self.selected[id(policy)]
        return allowed

    def ingress_policies(self, target: int) -> list[Policy]:
        return self._ingress_of[target]

    def egress_policies(self, source: int) -> list[Policy]:
        return self._egress_of[source]

    def labels_of(self, namespace: str) -> Mapping[str, Any]:
        """A namespace's labels, with the name label the API server sets on every namespace."""
        return self.namespace_labels.get(namespace, {NAMESPACE_NAME_LABEL: namespace})

    def verdict(self, source: int, target: int, port: Port | None) -> Verdict:
        src, dst = self.endpoints[source], self.endpoints[target]
        label = port.label() if port is not None else "any"
        ingress = self._side(self._ingress_of[target], "ingress", source, port, dst.key, src.key)
        egress = self._side(self._egress_of[source], "egress", target, port, src.key, dst.key)
        unknown = tuple(
            sorted(
                {
                    *self.outside.touching(src, self.labels_of(src.namespace), sending=True),
                    *self.outside.touching(dst, self.labels_of(dst.namespace)),
                }
            )
        )
        mesh = self.mesh.side(source, target, port.number if port is not None else None)
        return Verdict(src.key, dst.key, label, egress, ingress, unknown, mesh)

    def _side(
        self, policies: Sequence[Policy], direction: str, peer: int, port: Port | None, subject: str, other: str
    ) -> Side:
        if not policies:
            return Side(True, f"no NetworkPolicy isolates {subject} for {direction}: default allow")
        allowing = []
        for policy in policies:
            for rule in getattr(policy, direction) or ():
                if rule.allows_port(port) and self._rule_mask(rule, policy.namespace) >> peer & 1:
                    allowing.append(f"{policy.key} {direction} rule {rule.index + 1}")
        names = tuple(p.key for p in policies)
        if allowing:
            return Side(True, "allowed by " + ", ".join(allowing), names)
        on = f" on port {port.label()}" if port is not None else ""
        return Side(False, f"{_isolate(names)} {subject} for {direction}; no rule allows {other}{on}", names)

    def find(self, key: str) -> int:
        return self.index[key]

    def names(self, mask: int) -> list[str]:
        return [self.endpoints[i].key for i in bits(mask)]


def _isolate(policies: Sequence[str]) -> str:
    return f"{', '.join(policies)} {'isolates' if len(policies) == 1 else 'isolate'}"


def bits(mask: int) -> Iterator[int]:
    """The positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


# -- egress to addresses outside the pod network -----------------------------------------------
METADATA_ADDRESS = ipaddress.ip_address("169.254.169.254")
INTERNET_PROBE = ipaddress.ip_address("8.8.8.8")  # any public address; policies allow CIDRs, not names


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None  # None: unknown (any address counts)
    ports: tuple[int, ...]


def egress_destinations(inventory: Inventory) -> tuple[Destination, ...]:
    """The internet, the cloud metadata address and the API server (its address when the objects
    say, from the ``kubernetes`` Endpoints or EndpointSlice in ``default``)."""
    api = _api_server_address(inventory)
    return (
        Destination("internet", INTERNET_PROBE, (443, 80)),
        Destination("cloud metadata (169.254.169.254)", METADATA_ADDRESS, (80,)),
        Destination("API server" + (f" ({api})" if api else ""), api, (443, 6443)),
    )


def _api_server_address(inventory: Inventory) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    for resource in inventory.of_kind("Endpoints", "EndpointSlice"):
        if resource.name != "kubernetes" and resource.labels.get("kubernetes.io/service-name") != "kubernetes":
            continue
        if inventory.effective_namespace(resource) != DEFAULT_NAMESPACE:
            continue
        for address in _addresses(resource.raw):
            try:
                return ipaddress.ip_address(address)
            except ValueError:
                continue
    return None


def _addresses(raw: Mapping[str, Any]) -> Iterable[str]:
    for subset in raw.get("subsets") or ():
        for item in subset.get("addresses") or () if is_map(subset) else ():
            if is_map(item) and isinstance(item.get("ip"), str):
                yield item["ip"]
    for endpoint in raw.get("endpoints") or ():
        for address in endpoint.get("addresses") or () if is_map(endpoint) else ():
            if isinstance(address, str):
                yield address


def egress_allowed(reach: Reachability, source: int, destination: Destination) -> Side:
    """Whether ``source``'s pods may connect to ``destination`` (outside the pod network)."""
    policies = reach.egress_policies(source)
    subject = reach.endpoints[source].key
    if not policies:
        return Side(True, f"no NetworkPolicy isolates {subject} for egress: default allow")
    allowing = []
    for policy in policies:
        for rule in policy.egress or ():
            if any(rule.allows_address(destination.address, number) for number in destination.ports):
                allowing.append(f"{policy.key} egress rule {rule.index + 1}")
    names = tuple(p.key for p in policies)
    if allowing:
        return Side(True, "allowed by " + ", ".join(allowing), names)
    return Side(False, f"{_isolate(names)} {subject} for egress; no rule allows it", names)
