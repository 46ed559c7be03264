"""WL-003: a container that may run as root (the Pod Security ``runAsUser`` and ``runAsNonRoot`` checks decide)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import effective, effective_field
from stockade.rules.wl._verdict import verdict


@container_rule(
    id="WL-003",
    name="runs-as-root",
    title="Container may run as root",
    severity=Severity.MEDIUM,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.7"],
        "nsa-cisa": ["pod-security.non-root"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Set runAsNonRoot: true and a non-zero runAsUser in the pod or container securityContext.",
)
def runs_as_root(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container may run as root.

    ## What it does
    Flags containers that run as UID 0 (`runAsUser: 0`, high severity) or that neither set
    `runAsNonRoot: true` nor a non-zero `runAsUser` (medium: the image decides, and most images run
    as root). The container's securityContext wins over the pod's, as the kubelet applies them.
    Pods in a user namespace (`spec.hostUsers: false`) pass: their root is an unprivileged user on
    the node, and Pod Security restricted allows it from policy v1.35.

    ## Why is this bad?
    Root in a container is root on the node's kernel. Together with any other weakness (a writable
    hostPath, an added capability, a kernel bug) it turns a container compromise into a node
    compromise.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: worker, namespace: jobs}
    spec:
      securityContext:
        runAsUser: 0
      containers:
        - name: worker
          image: registry.example.com/jobs/worker:5.0
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: worker, namespace: jobs}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: worker
          image: registry.example.com/jobs/worker:5.0
    ```

    ## Remediation
    Build the image with a non-root `USER` and set `runAsNonRoot: true` (and `runAsUser`) in the pod
    securityContext so the kubelet refuses to start it as root.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    # Both checks allow pods in a user namespace at policy latest: root there is not root on the node.
    uid_zero = verdict(ctx, container.pod, "runAsUser")
    non_root = verdict(ctx, container.pod, "runAsNonRoot")
    if uid_zero is None and non_root is None:
        return
    user, user_from = effective(container, "runAsUser")
    if uid_zero is not None:
        field = effective_field(container, user_from, "runAsUser")
        uid_zero.require_well_formed(field)
        if uid_zero.flags(field):
            path = (
                (*container.path, "securityContext", "runAsUser")
                if user_from == "container"
                else (*container.pod.spec_path, "securityContext", "runAsUser")
            )
            yield Violation(
                f'container "{container.name}" runs as UID 0 (runAsUser from {user_from})',
                path,
                severity=Severity.HIGH,
                remediation=container_patch(container, {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001}}),
            )
            return
    if non_root is None or (isinstance(user, int) and user > 0):
        return  # a non-zero UID satisfies this rule (Pod Security restricted also wants runAsNonRoot)
    value, source = effective(container, "runAsNonRoot")
    if value is not None and non_root.boolean(effective_field(container, source, "runAsNonRoot"), value):
        return
    yield Violation(
        f'container "{container.name}" sets neither runAsNonRoot: true nor a non-zero runAsUser',
        container.path,
        remediation=container_patch(container, {"securityContext": {"runAsNonRoot": True}}),
    )
