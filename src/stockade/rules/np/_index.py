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
# Kinds whose policies select pods in every namespace.
CLUSTER_POLICY_KINDS = ("CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy")
# What the policy index reads.
POLICY_READS = frozenset((*POLICY_KINDS, *CLUSTER_POLICY_KINDS))
# Cilium gives every endpoint its pod's namespace as this label, so a cluster-wide selector can
# name namespaces through it.
CILIUM_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
_CILIUM_GROUPS = frozenset({"cilium.io"})
_K8S_POLICY_GROUPS = frozenset({"networking.k8s.io", "extensions"})
_CALICO_GROUPS = frozenset({"projectcalico.org", "crd.projectcalico.org"})


@dataclass(frozen=True, slots=True)
class PolicyIndex:
    """What a scan's NetworkPolicies cover, built once per inventory."""

    namespaces_with_policy: frozenset[str]
    policies: Mapping[str, int]  # policies per namespace, whether Stockade can evaluate them or not
    selectors: Mapping[str, tuple[LabelSelector, ...]]  # policies Stockade can evaluate per pod
    unevaluated: Mapping[str, int]  # policies whose selector syntax Stockade does not read (Calico)
    # Cluster-wide policies: selectors matched against a pod's labels plus the Cilium namespace
    # label, and how many cluster-wide policies Stockade cannot evaluate.
    cluster_selectors: tuple[LabelSelector, ...] = ()
    cluster_unevaluated: int = 0

    def selects(self, namespace: str, labels: Mapping[str, object]) -> bool:
        """Whether a policy Stockade can evaluate selects a pod with ``labels`` in ``namespace``."""
        if any(selector.matches(labels) for selector in self.selectors.get(namespace, ())):
            return True
        if not self.cluster_selectors:
            return False
        endpoint = {**labels, CILIUM_NAMESPACE_LABEL: namespace}
        return any(selector.matches(endpoint) for selector in self.cluster_selectors)

    def unevaluated_in(self, namespace: str) -> int:
        """Policies that may select pods of ``namespace`` but that Stockade cannot evaluate."""
        return self.unevaluated.get(namespace, 0) + self.cluster_unevaluated

    @property
    def covers_every_namespace(self) -> bool:
        """A cluster-wide policy selects every pod of every namespace."""
        return any(selector.selects_all for selector in self.cluster_selectors)


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


def _cluster_selectors(policy: Resource) -> tuple[LabelSelector, ...] | None:
    """The pod selectors of a cluster-wide policy; None when Stockade cannot evaluate it."""
    spec = policy.raw.get("spec")
    if policy.group in _CILIUM_GROUPS:
        specs = [spec] if isinstance(spec, Mapping) else []
        extra = policy.raw.get("specs")
        specs += [s for s in extra if isinstance(s, Mapping)] if isinstance(extra, list) else []
        found: list[LabelSelector] = []
        for entry in specs:
            if "endpointSelector" not in entry:
                continue  # a host policy (nodeSelector): it selects nodes, not pods
            selector = _pod_selector(entry.get("endpointSelector"), key_prefixes=("k8s:", "any:"))
            if selector is None:
                continue
            if any(r.key.startswith("io.cilium.") for r in selector.requirements):
                return None  # namespace labels and other Cilium-made labels Stockade does not model
            found.append(selector)
        return tuple(found)
    if policy.group in _CALICO_GROUPS:
        fields = mapping(spec)
        everything = all(
            value is None or (isinstance(value, str) and value.strip() in ("", "all()"))
            for value in (fields.get("selector"), fields.get("namespaceSelector"))
        )
        return (LabelSelector(),) if everything else None
    return ()  # a kind of the same name from some other project


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
    cluster_selectors: list[LabelSelector] = []
    cluster_unevaluated = 0
    for policy in inventory.of_kind(*CLUSTER_POLICY_KINDS):
        parsed = _cluster_selectors(policy)
        if parsed is None:
            cluster_unevaluated += 1
        else:
            cluster_selectors.extend(parsed)
    return PolicyIndex(
        frozenset(policies),
        dict(policies),
        {ns: tuple(items) for ns, items in selectors.items()},
        dict(unevaluated),
        tuple(cluster_selectors),
        cluster_unevaluated,
    )


def workloads_by_namespace(inventory: Inventory) -> Mapping[str, int]:
    """Pod templates per namespace. Kept apart from the policy index, which reads policies only:
    a rule that needs the policies is not re-judged on every pod change (incremental evaluation)."""
    workloads: Counter[str] = Counter()
    for pod in inventory.pod_templates:
        namespace = inventory.effective_namespace(pod.carrier)
        if namespace is not None:
            workloads[namespace] += 1
    return dict(workloads)
