"""NP-005: pods that no NetworkPolicy of their namespace selects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.np._index import POLICY_READS, policy_index
from stockade.rules.np._messages import apply_command, plural


def _labels(pod: PodTemplate) -> Mapping[str, object]:
    return mapping(pod.metadata.get("labels"))


def _policy_for(pod: PodTemplate, namespace: str) -> str:
    labels = {k: v for k, v in _labels(pod).items() if isinstance(k, str) and isinstance(v, str)}
    name = f"{pod.carrier.name or 'app'}-traffic"
    return apply_command(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": labels},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        }
    )


@pod_rule(
    id="NP-005",
    reads=POLICY_READS,
    name="pod-not-selected-by-network-policy",
    title="Pod is not selected by any NetworkPolicy",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.WALK,
    frameworks={
        "cis-1.10": ["5.3.2"],
        "nsa-cisa": ["network.policies"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
        "mitre-attack": ["T1046"],
    },
    remediation="Add a NetworkPolicy whose podSelector matches the pod's labels (or a namespace default-deny).",
)
def pod_not_selected_by_network_policy(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod is not selected by any NetworkPolicy.

    ## What it does
    Matches each pod template's labels against the pod selectors of the NetworkPolicies in its
    namespace (`matchLabels` and `matchExpressions` with `In`, `NotIn`, `Exists`, `DoesNotExist`;
    an empty `podSelector` selects every pod) and flags pods that no policy selects. Kubernetes
    NetworkPolicies and CiliumNetworkPolicies (`endpointSelector`) are evaluated; Calico policies
    count only when their selector is empty or `all()`, since Stockade does not read Calico's
    selector language. Cluster-wide policies count too: a CiliumClusterwideNetworkPolicy's
    `endpointSelector` (matched with the pod's namespace as `io.kubernetes.pod.namespace`) and a
    Calico GlobalNetworkPolicy whose selectors are empty or `all()`. A policy of any type (ingress
    or egress) counts as selecting the pod. When a policy Stockade cannot evaluate might select the
    pod, the finding says the answer is unknown, at severity info, never "not selected".

    ## Why is this bad?
    A namespace can have policies and still leave pods open: a policy for `app: api` does nothing
    for the `worker` next to it. Pods no policy selects accept every connection and may connect
    anywhere. Per-application allowed connections are the goal of east-west segmentation.

    ## Example
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: api, namespace: shop}
    spec:
      podSelector:
        matchLabels: {app: api}
      ingress:
        - from:
            - podSelector: {matchLabels: {app: web}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: worker, namespace: shop}
    spec:
      selector: {matchLabels: {app: worker}}
      template:
        metadata: {labels: {app: worker}}
        spec:
          containers:
            - {name: worker, image: registry.example.com/shop/worker:1.8}
    ```

    ## Use instead
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: backend, namespace: shop}
    spec:
      podSelector:
        matchExpressions:
          - {key: app, operator: In, values: [api, worker]}
      ingress:
        - from:
            - podSelector: {matchLabels: {app: web}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: worker, namespace: shop}
    spec:
      selector: {matchLabels: {app: worker}}
      template:
        metadata: {labels: {app: worker}}
        spec:
          containers:
            - {name: worker, image: registry.example.com/shop/worker:1.8}
    ```

    ## Remediation
    Give the namespace a default-deny policy (`podSelector: {}`) so that new pods start isolated,
    then write one policy per application allowing exactly the connections it needs.

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/network-policies/
    - https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
    """
    namespace = ctx.inventory.effective_namespace(pod.carrier)
    if namespace is None:
        return
    index = ctx.analyses.get(policy_index)
    labels = _labels(pod)
    if index.selects(namespace, labels):
        return
    shown = ", ".join(f"{k}={v}" for k, v in list(labels.items())[:5]) or "none"
    path = (*pod.path, "metadata", "labels") if labels else pod.spec_path
    unevaluated = index.unevaluated_in(namespace)
    if unevaluated:
        # A policy Stockade cannot read may well select the pod: say "unknown", never "not selected".
        yield Violation(
            f"whether a NetworkPolicy selects this pod is unknown: "
            f"{plural(unevaluated, 'policy', 'policies')} that Stockade cannot evaluate (Calico selector "
            f"syntax, Cilium namespace labels) may select it, and none that it can evaluate does "
            f"(pod labels: {shown})",
            path,
            severity=Severity.INFO,
            remediation=_policy_for(pod, namespace),
        )
        return
    count = index.policies.get(namespace, 0)
    if not count:
        why = f'namespace "{namespace}" has no NetworkPolicy'
    elif count == 1:
        why = f'the only NetworkPolicy in namespace "{namespace}" does not select it'
    else:
        why = f'none of the {count} NetworkPolicies in namespace "{namespace}" selects it'
    if index.cluster_selectors:
        why += " nor does any cluster-wide policy"
    yield Violation(
        f"pod is not selected by any NetworkPolicy: {why} (pod labels: {shown})",
        path,
        remediation=_policy_for(pod, namespace),
    )
