"""NetworkPolicies as Kubernetes reads them: one model for attack paths and `stockade network`.

A pod is isolated for ingress (egress) when some NetworkPolicy selecting it has that policy type:
``Ingress`` always unless ``policyTypes`` says otherwise, ``Egress`` when listed or when the
policy has ``egress`` rules. An isolated pod accepts only what some rule of a policy selecting it
allows. In a rule, a missing or empty ``from`` / ``to`` means every peer (pods and addresses), an
absent or empty ``ports`` every port. A peer with both ``namespaceSelector`` and ``podSelector``
means pods matching in namespaces matching (AND); two peers are either (OR). A peer with only a
``podSelector`` means the policy's own namespace. ``ipBlock`` peers are CIDRs (with ``except``)
for addresses outside the pod network; they are not matched against pods.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.errors import SelectorError
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.model.selectors import LabelSelector, parse_label_selector

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
NETWORK_POLICY_GROUPS = ("networking.k8s.io", "extensions")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Port:
    """A port a container declares (``number`` None for a name the container does not number)."""

    number: int | None
    name: str
    protocol: str

    def label(self) -> str:
        shown = str(self.number) if self.number is not None else self.name
        return shown if self.protocol.upper() == "TCP" else f"{shown}/{self.protocol.upper()}"


def container_ports(container: Mapping[str, Any]) -> tuple[Port, ...]:
    """The ports one container spec declares."""
    raw = container.get("ports")
    found: list[Port] = []
    for item in raw if is_list(raw) else ():
        if not is_map(item):
            continue
        number = item.get("containerPort")
        name = item.get("name")
        protocol = item.get("protocol")
        found.append(
            Port(
                number if isinstance(number, int) and not isinstance(number, bool) else None,
                name if isinstance(name, str) else "",
                protocol if isinstance(protocol, str) else "TCP",
            )
        )
    return tuple(found)


@dataclass(frozen=True, slots=True)
class PolicyPort:
    protocol: str
    port: int | str | None  # None: every port of the protocol
    end_port: int | None = None

    def allows(self, port: Port) -> bool:
        if self.protocol.upper() != "ANY" and port.protocol.upper() != self.protocol.upper():
            return False
        if self.port is None:
            return True
        if isinstance(self.port, str):
            return port.name == self.port
        if port.number is None:
            return False
        return self.port <= port.number <= (self.end_port or self.port)

    def allows_number(self, number: int, protocol: str = "TCP") -> bool:
        """For an address outside the pod network: a named port never matches it."""
        if self.protocol.upper() != "ANY" and protocol.upper() != self.protocol.upper():
            return False
        if self.port is None:
            return True
        return isinstance(self.port, int) and self.port <= number <= (self.end_port or self.port)


@dataclass(frozen=True, slots=True)
class Peer:
    pods: LabelSelector | None  # None: every pod (of the namespaces)
    namespaces: LabelSelector | None  # None: the policy's own namespace


@dataclass(frozen=True, slots=True)
class IpBlock:
    cidr: IPNetwork
    excepted: tuple[IPNetwork, ...] = ()

    def holds(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return (
            address.version == self.cidr.version
            and address in self.cidr
            and not any(address.version == e.version and address in e for e in self.excepted)
        )


@dataclass(frozen=True, slots=True)
class PolicyRule:
    peers: tuple[Peer, ...] | None  # None: any peer, pods and addresses alike
    ports: tuple[PolicyPort, ...] | None  # None: any port
    external: bool = False  # an ipBlock peer: addresses outside the pod network may connect
    blocks: tuple[IpBlock, ...] = ()
    index: int = 0  # the rule's position in the policy, for explanations

    def allows_port(self, port: Port | None) -> bool:
        return port is None or self.ports is None or any(pp.allows(port) for pp in self.ports)

    def allows_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, number: int) -> bool:
        """An address outside the pod network, on a TCP port; ``None``: an address not known, which
        any ipBlock of the rule may hold."""
        if self.ports is not None and not any(pp.allows_number(number) for pp in self.ports):
            return False
        if self.peers is None:
            return True
        return bool(self.blocks) if address is None else any(block.holds(address) for block in self.blocks)


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    namespace: str
    selector: LabelSelector
    ingress: tuple[PolicyRule, ...] | None  # None: the policy does not isolate for ingress
    egress: tuple[PolicyRule, ...] | None
    kind: str = "NetworkPolicy"
    # A cluster-wide policy: it selects pods in the namespaces this selector matches (not ``namespace``).
    across: LabelSelector | None = None

    @property
    def key(self) -> str:
        return "/".join(x for x in (self.kind, self.namespace, self.name) if x)


def _selector(raw: object) -> LabelSelector | None:
    try:
        return parse_label_selector(raw if raw is not None else {})
    except SelectorError:
        return None


def _ports(raw: object) -> tuple[PolicyPort, ...] | None:
    if not is_list(raw) or not raw:
        return None
    found: list[PolicyPort] = []
    for item in raw:
        if not is_map(item):
            continue
        port = item.get("port")
        end = item.get("endPort")
        found.append(
            PolicyPort(
                str(item.get("protocol") or "TCP"),
                port if isinstance(port, int | str) and not isinstance(port, bool) else None,
                end if isinstance(end, int) and not isinstance(end, bool) else None,
            )
        )
    return tuple(found)


def _block(raw: Mapping[str, Any]) -> IpBlock | None:
    try:
        cidr = ipaddress.ip_network(str(raw.get("cidr")), strict=False)
        excepted = raw.get("except")
        holes = tuple(ipaddress.ip_network(str(e), strict=False) for e in excepted) if is_list(excepted) else ()
    except ValueError:
        return None  # the API server refuses it: it allows nothing
    return IpBlock(cidr, holes)


def _rules(raw: object, peer_key: str) -> tuple[PolicyRule, ...]:
    rules: list[PolicyRule] = []
    for index, item in enumerate(raw if is_list(raw) else ()):
        if not is_map(item):
            continue
        peers_raw = item.get(peer_key)
        peers: tuple[Peer, ...] | None = None
        external = False
        blocks: list[IpBlock] = []
        if is_list(peers_raw) and peers_raw:
            found: list[Peer] = []
            for peer in peers_raw:
                if is_map(peer) and is_map(peer.get("ipBlock")):
                    external = True
                    block = _block(peer["ipBlock"])
                    if block is not None:
                        blocks.append(block)
                if not is_map(peer) or ("podSelector" not in peer and "namespaceSelector" not in peer):
                    continue  # ipBlock: addresses outside the pod network
                pods = _selector(peer.get("podSelector")) if "podSelector" in peer else None
                namespaces = _selector(peer.get("namespaceSelector")) if "namespaceSelector" in peer else None
                if ("podSelector" in peer and pods is None) or ("namespaceSelector" in peer and namespaces is None):
                    continue  # a selector the API server refuses selects nothing
                found.append(Peer(pods, namespaces))
            peers = tuple(found)
        rules.append(PolicyRule(peers, _ports(item.get("ports")), external, tuple(blocks), index))
    return tuple(rules)


def read_policy(resource: Resource, namespace: str) -> Policy | None:
    """The policy ``resource`` states, or None when its pod selector cannot select anything."""
    spec = resource.raw.get("spec")
    if not is_map(spec):
        return None
    selector = _selector(spec.get("podSelector"))
    if selector is None:
        return None
    types = spec.get("policyTypes")
    if is_list(types) and types:
        ingress_on, egress_on = "Ingress" in types, "Egress" in types
    else:
        ingress_on, egress_on = True, "egress" in spec
    return Policy(
        resource.name,
        namespace,
        selector,
        _rules(spec.get("ingress"), "from") if ingress_on else None,
        _rules(spec.get("egress"), "to") if egress_on else None,
    )


# -- Cilium -------------------------------------------------------------------------------------------
CILIUM_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
CILIUM_NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
EVERY_NAMESPACE = LabelSelector()
# Rule fields Stockade evaluates; any other field (fromRequires, toFQDNs, toServices, L7 rules,
# deny rules, ICMP…) makes the policy one it does not evaluate.
CILIUM_INGRESS = frozenset({"fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "toPorts"})
CILIUM_EGRESS = frozenset({"toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toPorts"})
CILIUM_SPEC = frozenset({"endpointSelector", "ingress", "egress", "description", "labels"})
ANYWHERE = (IpBlock(ipaddress.ip_network("0.0.0.0/0")), IpBlock(ipaddress.ip_network("::/0")))


class NotEvaluated(Exception):
    """A Cilium policy uses something Stockade does not evaluate (its answers are then "unknown")."""


def cilium_selector(raw: object, own_namespace: str | None) -> tuple[LabelSelector, LabelSelector | None]:
    """(pod selector, namespace selector) of a Cilium endpoint selector. The namespace selector is
    None for "the policy's own namespace" (a namespaced policy's default)."""
    if not is_map(raw):
        raise NotEvaluated("an endpoint selector that is not a mapping")
    pods: dict[str, Any] = {}
    namespaces: dict[str, Any] = {}
    labels = raw.get("matchLabels")
    for key, value in labels.items() if is_map(labels) else ():
        name = str(key).removeprefix("k8s:").removeprefix("any:")
        if name == CILIUM_NAMESPACE_LABEL:
            namespaces[NAMESPACE_NAME_LABEL] = value
        elif name.startswith(CILIUM_NAMESPACE_LABELS):
            namespaces[name.removeprefix(CILIUM_NAMESPACE_LABELS)] = value
        else:
            pods[name] = value
    expressions = raw.get("matchExpressions")
    if is_list(expressions) and any(
        is_map(e) and str(e.get("key", "")).removeprefix("k8s:").startswith(("io.kubernetes.pod.", "io.cilium."))
        for e in expressions
    ):
        raise NotEvaluated("a namespace expression in an endpoint selector")
    try:
        pod_selector = parse_label_selector({"matchLabels": pods, "matchExpressions": expressions or []})
        namespace_selector = parse_label_selector({"matchLabels": namespaces}) if namespaces else None
    except SelectorError as error:
        raise NotEvaluated(str(error)) from error
    if namespace_selector is None and own_namespace is None:
        namespace_selector = EVERY_NAMESPACE  # a cluster-wide policy's selectors span every namespace
    return pod_selector, namespace_selector


def _cilium_ports(raw: object) -> tuple[PolicyPort, ...] | None:
    if raw is None:
        return None
    found: list[PolicyPort] = []
    for entry in raw if is_list(raw) else ():
        if not is_map(entry):
            continue
        if entry.get("rules") or entry.get("terminatingTLS") or entry.get("originatingTLS") or entry.get("serverNames"):
            raise NotEvaluated("L7 or TLS rules on a port")
        for port in entry.get("ports") or () if is_list(entry.get("ports")) else ():
            if not is_map(port):
                continue
            text = str(port.get("port", "0"))
            number: int | str | None = int(text) if text.isdigit() else text
            end = port.get("endPort")
            found.append(
                PolicyPort(
                    str(port.get("protocol") or "ANY"),
                    None if number == 0 else number,
                    end if isinstance(end, int) and not isinstance(end, bool) else None,
                )
            )
    return tuple(found)


def _cilium_blocks(rule: Mapping[str, Any], plain: str, sets: str) -> list[IpBlock]:
    blocks = [_block({"cidr": c}) for c in rule.get(plain) or () if isinstance(c, str)]
    for entry in rule.get(sets) or ():
        if not is_map(entry) or "cidrGroupRef" in entry or "cidrGroupSelector" in entry:
            raise NotEvaluated("a CIDR group")
        blocks.append(_block(entry))
    return [b for b in blocks if b is not None]


def _cilium_rule(rule: object, direction: str, namespace: str | None, index: int) -> PolicyRule:
    if not is_map(rule):
        raise NotEvaluated("a rule that is not a mapping")
    allowed = CILIUM_INGRESS if direction == "ingress" else CILIUM_EGRESS
    extra = sorted(set(rule) - allowed)
    if extra:
        raise NotEvaluated(", ".join(extra))
    side = "from" if direction == "ingress" else "to"
    peers: list[Peer] = []
    for selector in rule.get(f"{side}Endpoints") or ():
        pods, namespaces = cilium_selector(selector, namespace)
        peers.append(Peer(None if pods.selects_all and namespaces is not None else pods, namespaces))
    blocks = _cilium_blocks(rule, f"{side}CIDR", f"{side}CIDRSet")
    everyone = False
    for entity in rule.get(f"{side}Entities") or ():
        if entity == "all":
            everyone = True
        elif entity == "cluster":
            peers.append(Peer(None, EVERY_NAMESPACE))
        elif entity == "world":
            blocks.extend(ANYWHERE)
        else:
            raise NotEvaluated(f"the {entity} entity")
    ports = _cilium_ports(rule.get("toPorts"))
    # In Cilium an empty rule allows nothing (`ingress: [{}]` is how a policy denies all), while a
    # rule with only ports allows them from (or to) anyone.
    if everyone or (ports is not None and not set(rule) - {"toPorts"}):
        return PolicyRule(None, ports, True, ANYWHERE, index)
    return PolicyRule(tuple(peers), ports, bool(blocks), tuple(blocks), index)


def read_cilium_policy(resource: Resource, namespace: str | None) -> list[Policy]:
    """The rules of a CiliumNetworkPolicy (``namespace``) or CiliumClusterwideNetworkPolicy (None),
    as policies with the same meaning. Raises :class:`NotEvaluated` for anything else."""
    specs = [resource.raw["spec"]] if is_map(resource.raw.get("spec")) else []
    many = resource.raw.get("specs")
    specs += [s for s in (many if is_list(many) else ()) if is_map(s)]
    if not specs:
        raise NotEvaluated("no spec")
    policies = []
    for number, spec in enumerate(specs):
        extra = sorted(set(spec) - CILIUM_SPEC)
        if extra:
            raise NotEvaluated(", ".join(extra))
        pods, across = cilium_selector(spec.get("endpointSelector"), namespace)
        ingress = spec.get("ingress")
        egress = spec.get("egress")
        name = resource.name if len(specs) == 1 else f"{resource.name}[{number}]"
        policies.append(
            Policy(
                name,
                namespace or "",
                pods,
                tuple(_cilium_rule(r, "ingress", namespace, i) for i, r in enumerate(ingress))
                if is_list(ingress)
                else None,
                tuple(_cilium_rule(r, "egress", namespace, i) for i, r in enumerate(egress))
                if is_list(egress)
                else None,
                resource.kind,
                across if namespace is None else None,
            )
        )
    return policies
