"""WL-002: a container that may gain privileges (the Pod Security ``allowPrivilegeEscalation`` check decides)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context
from stockade.rules.wl._verdict import verdict


@container_rule(
    id="WL-002",
    name="privilege-escalation-allowed",
    title="Container may gain more privileges than its parent process",
    severity=Severity.HIGH,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.6"],
        "nsa-cisa": ["pod-security.non-root"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1068"],
    },
    remediation="Set securityContext.allowPrivilegeEscalation: false on every container.",
)
def privilege_escalation_allowed(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container may gain more privileges than its parent process.

    ## What it does
    Flags containers that do not set `securityContext.allowPrivilegeEscalation: false`. Windows pods
    (`spec.os.name: windows`) are exempt: the field is Linux-only, as Pod Security restricted says.

    ## Why is this bad?
    Unless it is set to false, a process can gain privileges through setuid binaries or file
    capabilities (the kernel's `no_new_privs` flag stays off). Unset means allowed.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - name: api
              image: registry.example.com/shop/api:2.3.1
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - name: api
              image: registry.example.com/shop/api:2.3.1
              securityContext:
                allowPrivilegeEscalation: false
    ```

    ## Remediation
    Add `allowPrivilegeEscalation: false` to each container's `securityContext`.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
    """
    denied = verdict(ctx, container.pod, "allowPrivilegeEscalation")  # Windows pods are exempt: never denied
    if denied is None:
        return
    value = container_context(container).get("allowPrivilegeEscalation")
    field = f"{container.view.field}.securityContext.allowPrivilegeEscalation"
    if not denied.flags(field):
        return
    if value is None:
        where, path = "does not set allowPrivilegeEscalation: false", container.path
    elif denied.boolean(field, value):
        where, path = (
            "sets allowPrivilegeEscalation: true",
            (*container.path, "securityContext", "allowPrivilegeEscalation"),
        )
    else:
        return  # a YAML 1.1 "no"/"off": false as kubectl reads it
    yield Violation(
        f'container "{container.name}" {where}',
        path,
        remediation=container_patch(container, {"securityContext": {"allowPrivilegeEscalation": False}}),
    )
