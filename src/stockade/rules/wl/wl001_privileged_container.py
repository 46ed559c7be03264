"""WL-001: a container that runs privileged (the Pod Security ``privileged`` check decides)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context
from stockade.rules.wl._verdict import verdict


@container_rule(
    id="WL-001",
    name="privileged-container",
    title="Container runs privileged",
    severity=Severity.CRITICAL,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.2"],
        "nsa-cisa": ["pod-security.non-root", "pod-security.enforcement"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611", "T1610"],
    },
    remediation="Remove securityContext.privileged or set it to false; grant only the capabilities needed.",
)
def privileged_container(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container runs privileged.

    ## What it does
    Flags containers with `securityContext.privileged: true`.

    ## Why is this bad?
    A privileged container has every capability, sees every host device and is not confined by
    seccomp or AppArmor. Escaping to the node is a matter of mounting its disk. Auditing privileged
    containers is the first (crawl) step of container hardening.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: debug, namespace: tools}
    spec:
      containers:
        - name: shell
          image: registry.example.com/tools/shell:1.4@sha256:4f5e5d3c2b1a09876543210fedcba9876543210fedcba9876543210fedcba98
          securityContext:
            privileged: true
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: debug, namespace: tools}
    spec:
      containers:
        - name: shell
          image: registry.example.com/tools/shell:1.4@sha256:4f5e5d3c2b1a09876543210fedcba9876543210fedcba9876543210fedcba98
          securityContext:
            privileged: false
            capabilities: {drop: [ALL]}
    ```

    ## Remediation
    Set `securityContext.privileged: false`. If the workload truly needs a device or a kernel
    feature, grant the single capability it needs and waive this rule with a reason and an expiry.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    denied = verdict(ctx, container.pod, "privileged")
    if denied is None:
        return
    value = container_context(container).get("privileged")
    field = f"{container.view.field}.securityContext.privileged"
    if denied.flags(field) and denied.boolean(field, value):
        yield Violation(
            f'container "{container.name}" runs privileged',
            (*container.path, "securityContext", "privileged"),
            remediation=container_patch(container, {"securityContext": {"privileged": False}}),
        )
