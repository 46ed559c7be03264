"""WL-015: a container without a CPU limit."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._resources import missing_limit


@container_rule(
    id="WL-015",
    name="missing-cpu-limit",
    title="Container has no CPU limit",
    severity=Severity.LOW,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["network.resource-policies"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1496.001"],
    },
    remediation="Set resources.limits.cpu (or a LimitRange default for the namespace).",
)
def missing_cpu_limit(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container has no CPU limit.

    ## What it does
    Flags containers without `resources.limits.cpu`, or with a zero one. A value the API server
    rejects (`-1Zi`, `1e1000`, `true`) is an error finding, never a limit.

    ## Why is this bad?
    Without a limit a hijacked container (crypto-mining is the common case) can use every core of
    its node and starve its neighbours.

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
            limits: {cpu: 500m, memory: 256Mi}
    ```

    ## Remediation
    Set `resources.limits.cpu`, or give the namespace a LimitRange default.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    """
    return missing_limit(container, "cpu")
