"""Network policies Stockade does not evaluate, and which endpoints they may select.

These add rules of their own that are not evaluated: Cilium policies using what
:func:`stockade.model.netpol.read_cilium_policy` does not evaluate (L7 rules, deny rules, FQDNs…),
Calico's ``NetworkPolicy`` and ``GlobalNetworkPolicy`` (``projectcalico.org``), the policy API's
``AdminNetworkPolicy`` and ``BaselineAdminNetworkPolicy``, and Linkerd's ``Server`` authorization.
Their selectors are read where they can be: Cilium's label selectors (``k8s:`` prefixes and the
pod's namespace label understood), Calico's simple selectors (``all()``, ``has(k)``, ``k == 'v'``,
``k != 'v'`` joined by ``&&``) and a Server's pod selector. An endpoint such a policy may select
has an answer marked unknown, naming the policy; a selector that cannot be read is taken to select
everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stockade.model.inventory import Inventory
from stockade.model.netpol import NAMESPACE_NAME_LABEL, NotEvaluated, cilium_selector
from stockade.model.podspec import is_list, is_map

if TYPE_CHECKING:
    from stockade.network.reach import Endpoint

CALICO_GROUPS = ("projectcalico.org", "crd.projectcalico.org")
LINKERD_POLICY = "policy.linkerd.io"
# (the namespace's labels, its name among them; the pod's labels) → may select
Selects = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class OutsidePolicy:
    key: str
    selects: Selects
    outbound: bool = True  # it may also restrict what the pods it selects send (Linkerd Servers do not)


@dataclass(frozen=True, slots=True)
class OutsidePolicies:
    policies: tuple[OutsidePolicy, ...] = field(default_factory=tuple)

    def touching(self, endpoint: Endpoint, ns_labels: Mapping[str, Any], sending: bool = False) -> list[str]:
        """Policies that may decide connections to ``endpoint`` (from it, with ``sending``);
        ``ns_labels``: its namespace's labels."""
        return [p.key for p in self.policies if (p.outbound or not sending) and p.selects(ns_labels, endpoint.labels)]


def _everything(ns_labels: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return True


def _cilium_selects(raw: object, own_namespace: str | None) -> Selects:
    """What a Cilium endpoint selector may pick, read as the evaluated policies read it
    (:func:`stockade.model.netpol.cilium_selector`); one it cannot read may pick any pod in scope."""
    try:
        pods, namespaces = cilium_selector(raw, own_namespace)
    except NotEvaluated:
        return _in_namespace(own_namespace)

    def selects(ns_labels: Mapping[str, Any], pod_labels: Mapping[str, Any]) -> bool:
        if namespaces is None:
            in_scope = ns_labels.get(NAMESPACE_NAME_LABEL) == own_namespace
        else:
            in_scope = namespaces.matches(ns_labels)
        return in_scope and pods.matches(pod_labels)

    return selects


_TERM = re.compile(r"^\s*(?:(all\(\))|has\(\s*([\w./-]+)\s*\)|([\w./-]+)\s*(==|!=)\s*['\"]([^'\"]*)['\"])\s*$")


def _calico_term(part: str) -> Callable[[Mapping[str, Any]], bool] | None:
    """One simple term, or None when it is not one of the forms understood."""
    match = _TERM.match(part)
    if match is None:
        return None
    every, has, key, operator, value = match.groups()
    if every:
        return lambda labels: True
    if has:
        return lambda labels: has in labels
    if operator == "==":
        return lambda labels: key in labels and str(labels[key]) == value
    return lambda labels: key not in labels or str(labels[key]) != value


def _calico_selects(text: object, own_namespace: str | None) -> Selects:
    """A Calico selector of simple terms joined by ``&&``; anything else may select every pod."""
    terms: list[Callable[[Mapping[str, Any]], bool]] = []
    if isinstance(text, str) and text.strip():
        for part in text.split("&&"):
            term = _calico_term(part)
            if term is None:
                return _in_namespace(own_namespace)
            terms.append(term)

    in_scope = _in_namespace(own_namespace)

    def selects(ns_labels: Mapping[str, Any], pod_labels: Mapping[str, Any]) -> bool:
        return in_scope(ns_labels, pod_labels) and all(term(pod_labels) for term in terms)

    return selects


def _in_namespace(namespace: str | None) -> Selects:
    """Any pod of ``namespace`` (of every namespace for None)."""
    return lambda ns_labels, labels: namespace is None or ns_labels.get(NAMESPACE_NAME_LABEL) == namespace


def read_outside_policies(
    inventory: Inventory, evaluated: frozenset[str] = frozenset(), unreadable: Sequence[str] = ()
) -> OutsidePolicies:
    """``evaluated``: keys of the Cilium policies Stockade evaluates (left out here);
    ``unreadable``: NetworkPolicies (``NetworkPolicy/NS/NAME``) whose spec or pod selector cannot be
    read, which may concern any pod of their namespace."""
    found: list[OutsidePolicy] = [
        OutsidePolicy(f"{key} (unreadable)", _in_namespace(key.split("/")[1])) for key in unreadable
    ]
    for resource in inventory.of_kind("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        namespace = inventory.effective_namespace(resource) if resource.kind == "CiliumNetworkPolicy" else None
        key = "/".join(x for x in (resource.kind, namespace, resource.name) if x)
        if key in evaluated:
            continue
        for spec in _cilium_specs(resource.raw):
            if "nodeSelector" in spec and "endpointSelector" not in spec:
                continue  # host policies: they govern nodes, not pods
            found.append(OutsidePolicy(key, _cilium_selects(spec.get("endpointSelector"), namespace)))
    for resource in inventory.of_kind("NetworkPolicy", "GlobalNetworkPolicy"):
        if resource.group not in CALICO_GROUPS:
            continue
        namespace = inventory.effective_namespace(resource) if resource.kind == "NetworkPolicy" else None
        key = "/".join(x for x in (f"{resource.kind}.{resource.group}", namespace, resource.name) if x)
        calico = resource.raw.get("spec")
        selector = calico.get("selector") if is_map(calico) else None
        found.append(OutsidePolicy(key, _calico_selects(selector, namespace)))
    for resource in inventory.of_kind("Server"):
        if resource.group != LINKERD_POLICY:
            continue  # Linkerd authorization is not evaluated: the pods its Servers select are unknown
        namespace = inventory.effective_namespace(resource)
        server = resource.raw.get("spec")
        selector = server.get("podSelector") if is_map(server) else None
        key = f"Server.{LINKERD_POLICY}/{namespace}/{resource.name}"
        found.append(
            OutsidePolicy(key, _cilium_selects(selector, namespace) if is_map(selector) else _in_namespace(namespace))
        )
    for resource in inventory.of_kind("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
        found.append(OutsidePolicy(f"{resource.kind}/{resource.name}", _everything))
    return OutsidePolicies(tuple(found))


def _cilium_specs(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    one = raw.get("spec")
    specs: list[Mapping[str, Any]] = [one] if is_map(one) else []
    many = raw.get("specs")
    specs.extend(s for s in (many if is_list(many) else ()) if is_map(s))
    return specs
