"""WL-005: a container that keeps the runtime's default capabilities."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef, is_list, is_map
from stockade.pss import Malformed
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context, malformed_field


@container_rule(
    id="WL-005",
    name="capabilities-not-dropped",
    title="Container keeps the default Linux capabilities",
    severity=Severity.LOW,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.WALK,
    frameworks={
        "cis-1.10": ["5.2.10"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
    },
    remediation="Add capabilities.drop: [ALL] and add back only what the process needs.",
)
def capabilities_not_dropped(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container keeps the default Linux capabilities.

    ## What it does
    Flags containers whose `securityContext.capabilities.drop` does not contain `ALL`.

    ## Why is this bad?
    Container runtimes grant about fourteen capabilities by default (including `NET_RAW`, `CHOWN`,
    `SETUID`, `DAC_OVERRIDE`). Few applications need any of them; each one is attack surface.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
          securityContext:
            capabilities: {drop: [ALL]}
    ```

    ## Remediation
    Add `capabilities: {drop: [ALL]}` and, if the process binds a port below 1024, `add: [NET_BIND_SERVICE]`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    capabilities = container_context(container).get("capabilities")
    field = f"{container.view.field}.securityContext.capabilities"
    if capabilities is not None and not is_map(capabilities):
        raise malformed_field(container.pod, Malformed.of(field, "an object", capabilities))
    dropped = capabilities.get("drop") if capabilities is not None else None
    if dropped is not None and not is_list(dropped):
        raise malformed_field(container.pod, Malformed.of(field + ".drop", "a list", dropped))
    if not any(isinstance(name, str) and name.upper().removeprefix("CAP_") == "ALL" for name in dropped or ()):
        yield Violation(
            f'container "{container.name}" does not drop ALL capabilities',
            container.path,
            remediation=container_patch(container, {"securityContext": {"capabilities": {"drop": ["ALL"]}}}),
        )
