"""WL-016: a container that leaves CPU or memory (or both) without a request."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._pod import container_patch, mapping
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._resources import resource_amount


@container_rule(
    id="WL-016",
    name="missing-resource-requests",
    title="Container requests no CPU or memory",
    severity=Severity.LOW,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["network.resource-policies"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
    },
    remediation="Set resources.requests.cpu and resources.requests.memory.",
)
def missing_resource_requests(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container requests no CPU or memory.

    ## What it does
    Flags containers that leave CPU or memory, or both, without a request: each of
    `resources.requests.cpu` and `resources.requests.memory` must be set, or the matching limit
    (a limit alone implies an equal request). The message names what is missing.

    ## Why is this bad?
    Pods without requests are "BestEffort": scheduled anywhere, evicted first, and invisible to
    capacity planning, which makes resource-exhaustion attacks on neighbours easier.

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
    ```

    ## Remediation
    Set requests from observed usage.

    ## References
    - https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
    """
    resources = mapping(container.spec.get("resources"))
    # Every amount is read (a malformed one is an error even when another one is set).
    amounts = {(s, r): resource_amount(container, s, r) for s in ("requests", "limits") for r in ("cpu", "memory")}
    missing = [r for r in ("cpu", "memory") if amounts["requests", r] is None and amounts["limits", r] is None]
    if missing:
        yield Violation(
            f'container "{container.name}" requests no {" or ".join(missing)}',
            (*container.path, "resources") if resources else container.path,
            remediation=container_patch(container, {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}),
        )
