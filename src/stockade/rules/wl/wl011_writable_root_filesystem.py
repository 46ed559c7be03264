"""WL-011: a container whose root file system is writable."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.pss import Malformed
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context, malformed_field, read_bool


@container_rule(
    id="WL-011",
    name="writable-root-filesystem",
    title="Container's root file system is writable",
    severity=Severity.LOW,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.WALK,
    frameworks={
        "cis-1.10": ["5.7.3"],
        "nsa-cisa": ["pod-security.immutable-fs"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1525"],
    },
    remediation="Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where it writes.",
)
def writable_root_filesystem(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container's root file system is writable.

    ## What it does
    Flags containers that do not set `securityContext.readOnlyRootFilesystem: true`.

    ## Why is this bad?
    An attacker who gets code execution can drop tools and binaries into a writable image file
    system, and persist changes for the life of the container.

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
          securityContext: {readOnlyRootFilesystem: true}
          volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes:
        - {name: tmp, emptyDir: {}}
    ```

    ## Remediation
    Set `readOnlyRootFilesystem: true`; give the process `emptyDir` mounts for the paths it writes.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
    """
    value = container_context(container).get("readOnlyRootFilesystem")
    read_only = read_bool(value)
    if value is not None and read_only is None:
        field = f"{container.view.field}.securityContext.readOnlyRootFilesystem"
        raise malformed_field(container.pod, Malformed.of(field, "a boolean", value))
    if not read_only:
        yield Violation(
            f'container "{container.name}" has a writable root file system',
            container.path,
            remediation=container_patch(container, {"securityContext": {"readOnlyRootFilesystem": True}}),
        )
