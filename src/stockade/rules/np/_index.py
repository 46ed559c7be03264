"""Which pods a scan's NetworkPolicies select, per namespace: built once per scan through ``ctx.analyses``."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from stockade.errors import SelectorError
from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from stockade.model.selectors import LabelSelector, parse_label_selector
from stockade.rules._pod import mapping

# Kinds that restrict pod traffic in one namespace: Kubernetes (networking.k8s.io), Calico
# (projectcalico.org, same kind name) and Cilium.
POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy")
_K8S_POLICY_GROUPS = frozenset({"networking.k8s.io", "extensions"})
_CALICO_GROUPS = frozenset({"projectcalico.org", "crd.projectcalico.org"})


@dataclass(frozen=True, slots=True)
class PolicyIndex:
    """What a scan's NetworkPolicies cover, built once per inventory."""

    namespaces_with_policy: frozenset[str]
    policies: Mapping[str, int]  # policies per namespace, whether Stockade can evaluate them or not
    selectors: Mapping[str, tuple[LabelSelector, ...]]  # policies Stockade can evaluate per pod
    unevaluated: Mapping[str, int]  # policies whose selector syntax Stockade does not read (Calico)
    workloads: Mapping[str, int]  # pod templates per namespace


def _policy_selectors(policy: Resource) -> tuple[LabelSelector, ...] | None:
    """The pod selectors of one policy; None when it cannot be evaluated (Calico selector syntax)."""
    spec = policy.raw.get("spec")
    if policy.kind == "CiliumNetworkPolicy":
        specs = [spec] if isinstance(spec, Mapping) else []
        extra = policy.raw.get("specs")
        specs += [s for s in extra if isinstance(s, Mapping)] if isinstance(extra, list) else []
        parsed = (_pod_selector(s.get("endpointSelector"), key_prefixes=("k8s:", "any:")) for s in specs)
        return tuple(s for s in parsed if s is not None)
    if policy.group in _CALICO_GROUPS:
        selector = mapping(spec).get("selector")
        if selector is None or (isinstance(selector, str) and selector.strip() in ("", "all()")):
            return (LabelSelector(),)
        return None
    if not isinstance(spec, Mapping):
        return ()  # the API server would reject it: it selects nothing
    selector = _pod_selector(spec.get("podSelector"))
    return (selector,) if selector is not None else ()


def _pod_selector(raw: object, *, key_prefixes: tuple[str, ...] = ()) -> LabelSelector | None:
    """A policy's pod selector; None when the API server would refuse it (it then selects no pod)."""
    if raw is None:
        # podSelector is a required struct: absent (or null) reads as {} and selects every pod.
        return LabelSelector()
    try:
        return parse_label_selector(raw, key_prefixes=key_prefixes)
    except SelectorError:
        return None


def policy_index(inventory: Inventory) -> PolicyIndex:
    policies: Counter[str] = Counter()
    selectors: dict[str, list[LabelSelector]] = defaultdict(list)
    unevaluated: Counter[str] = Counter()
    for policy in inventory.of_kind(*POLICY_KINDS):
        namespace = inventory.effective_namespace(policy)
        if namespace is None:
            continue
        if policy.kind == "NetworkPolicy" and policy.group not in _K8S_POLICY_GROUPS | _CALICO_GROUPS:
            continue  # a CRD of the same name from some other project
        policies[namespace] += 1
        parsed = _policy_selectors(policy)
        if parsed is None:
            unevaluated[namespace] += 1
        else:
            selectors[namespace].extend(parsed)
    workloads: Counter[str] = Counter()
    for pod in inventory.pod_templates:
        namespace = inventory.effective_namespace(pod.carrier)
        if namespace is not None:
            workloads[namespace] += 1
    return PolicyIndex(
        frozenset(policies),
        dict(policies),
        {ns: tuple(items) for ns, items in selectors.items()},
        dict(unevaluated),
        dict(workloads),
    )
