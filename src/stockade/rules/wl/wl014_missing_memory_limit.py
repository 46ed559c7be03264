"""WL-014: a container without a memory limit."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._resources import missing_limit


@container_rule(
    id="WL-014",
    name="missing-memory-limit",
    title="Container has no memory limit",
    severity=Severity.MEDIUM,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["network.resource-policies"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1499", "T1496"],
    },
    remediation="Set resources.limits.memory (or a LimitRange default for the namespace).",
)
def missing_memory_limit(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container has no memory limit.

    ## What it does
    Flags containers without `resources.limits.memory`, or with a zero one. A value the API server
    rejects (`-1Zi`, `1e1000`, `true`) is an error finding, never a limit.

    ## Why is this bad?
    One leaking or hijacked container can take all of a node's memory; the kernel's OOM killer
    then ends other tenants' pods. Limits also bound what crypto-mining costs you.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
    ```

    ## Remediation
    Set `resources.limits.memory` from observed usage, or give the namespace a LimitRange default.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    """
    return missing_limit(container, "memory")
