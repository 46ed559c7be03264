"""NP-001: namespaces where no NetworkPolicy lives, so every pod in them is open to the cluster."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import READS_PLACEMENT, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.np._index import POLICY_READS, policy_index, workloads_by_namespace
from stockade.rules.np._messages import apply_command, plural

# Namespaces Kubernetes creates for Leases and public cluster info; no pods run there.
PODLESS_SYSTEM_NAMESPACES = frozenset({"kube-public", "kube-node-lease"})


def _default_deny(namespace: str) -> str:
    return apply_command(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny-ingress", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        }
    )


@inventory_rule(
    id="NP-001",
    reads=POLICY_READS | {"Namespace", READS_PLACEMENT},
    name="namespace-without-network-policy",
    title="Namespace has no NetworkPolicy",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.3.2"],
        "nsa-cisa": ["network.policies"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
        "mitre-attack": ["T1046"],
    },
    remediation="Add a default-deny NetworkPolicy to the namespace, then allow the flows each app needs.",
)
def namespace_without_network_policy(ctx: RuleContext) -> Iterator[Outcome]:
    """Namespace has no NetworkPolicy.

    ## What it does
    Reports, for every namespace of the scan (declared as a Namespace object or used by any
    namespaced object), whether at least one NetworkPolicy lives in it: a Kubernetes
    `networking.k8s.io` NetworkPolicy, a Calico `projectcalico.org` NetworkPolicy or a
    CiliumNetworkPolicy. A cluster-wide policy that selects every pod (a
    CiliumClusterwideNetworkPolicy with `endpointSelector: {}`, a Calico GlobalNetworkPolicy with
    `selector: all()`) covers every namespace; other cluster-wide policies are not counted here,
    since what they select is judged per pod by NP-005.
    `kube-system` is reported like any other namespace; `kube-public` and `kube-node-lease` are
    skipped unless the scan shows workloads in them, since Kubernetes keeps only a ConfigMap and
    Leases there. When the Namespace object is not part of the scan the finding is attached to a
    Namespace built from its name.

    ## Why is this bad?
    Without any NetworkPolicy every pod accepts connections from every other pod in the cluster and
    may connect anywhere. One compromised pod can then reach every database, cache and internal API.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: default-deny-ingress, namespace: shop}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Start with a default-deny ingress policy (`podSelector: {}`, `policyTypes: [Ingress]`) in each
    namespace, then add policies that allow the connections each application needs. The CNI must
    enforce NetworkPolicies (Calico, Cilium, and most managed offerings do).

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/network-policies/
    - https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies
    """
    inventory = ctx.inventory
    index = ctx.analyses.get(policy_index)
    counts = ctx.analyses.get(workloads_by_namespace)
    for namespace in sorted(inventory.namespaces):
        workloads = counts.get(namespace, 0)
        if not namespace or (namespace in PODLESS_SYSTEM_NAMESPACES and not workloads):
            continue
        target = inventory.namespace_resource(namespace)
        if target is None:
            continue
        if namespace in index.namespaces_with_policy or index.covers_every_namespace:
            yield Outcome(target)
            continue
        exposed = (
            f"its {plural(workloads, 'workload')} accept traffic from any pod in the cluster"
            if workloads
            else "any pod created in it will accept traffic from any pod in the cluster"
        )
        yield Outcome(
            target,
            (
                Violation(
                    f'namespace "{namespace}" has no NetworkPolicy: {exposed}',
                    remediation=_default_deny(namespace),
                ),
            ),
        )
