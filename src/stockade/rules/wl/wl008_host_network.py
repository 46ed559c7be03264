"""WL-008: a pod in the node's network namespace (``hostNetwork: true``)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.wl._namespaces import host_namespace


@pod_rule(
    id="WL-008",
    name="host-network",
    title="Pod uses the host's network namespace",
    severity=Severity.HIGH,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.5"],
        "nsa-cisa": ["pod-security.hardening", "network.node-segmentation"],
        "owasp-k8s-2022": ["K01", "K07"],
        "owasp-k8s-2025": ["K01", "K05"],
        "mitre-attack": ["T1611", "T1046"],
    },
    remediation="Remove hostNetwork or set it to false; expose ports through a Service.",
)
def host_network(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod uses the host's network namespace.

    ## What it does
    Flags pods with `hostNetwork: true`.

    ## Why is this bad?
    The pod bypasses NetworkPolicies, can bind any node port, sniff node traffic, and reach
    services that listen only on the node's loopback (the kubelet's read-only port, cloud metadata).

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: proxy, namespace: edge}
    spec:
      hostNetwork: true
      containers:
        - {name: proxy, image: registry.example.com/edge/proxy:2.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: proxy, namespace: edge}
    spec:
      hostNetwork: false
      containers:
        - {name: proxy, image: registry.example.com/edge/proxy:2.0}
    ```

    ## Remediation
    Remove `hostNetwork` and publish the port with a Service.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return host_namespace(ctx, pod, "hostNetwork", "network namespace")
