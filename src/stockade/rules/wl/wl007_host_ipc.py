"""WL-007: a pod in the node's IPC namespace (``hostIPC: true``)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.wl._namespaces import host_namespace


@pod_rule(
    id="WL-007",
    name="host-ipc",
    title="Pod shares the host's IPC namespace",
    severity=Severity.HIGH,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.4"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Remove hostIPC or set it to false.",
)
def host_ipc(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod shares the host's IPC namespace.

    ## What it does
    Flags pods with `hostIPC: true`.

    ## Why is this bad?
    The pod can read and write shared memory segments and message queues of every process on the
    node, including those of other tenants.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: shm, namespace: tools}
    spec:
      hostIPC: true
      containers:
        - {name: shm, image: registry.example.com/tools/shm:1.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: shm, namespace: tools}
    spec:
      containers:
        - {name: shm, image: registry.example.com/tools/shm:1.0}
    ```

    ## Remediation
    Remove `hostIPC`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return host_namespace(ctx, pod, "hostIPC", "IPC namespace")
