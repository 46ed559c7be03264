"""WL-006: a pod in the node's process ID namespace (``hostPID: true``)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.wl._namespaces import host_namespace


@pod_rule(
    id="WL-006",
    name="host-pid",
    title="Pod shares the host's process namespace",
    severity=Severity.HIGH,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.3"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Remove hostPID or set it to false.",
)
def host_pid(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod shares the host's process namespace.

    ## What it does
    Flags pods with `hostPID: true`.

    ## Why is this bad?
    The pod sees every process on the node, can read their environment (secrets included) through
    `/proc`, and with `SYS_PTRACE` can inject code into them.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: top, namespace: tools}
    spec:
      hostPID: true
      containers:
        - {name: top, image: registry.example.com/tools/top:1.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: top, namespace: tools}
    spec:
      containers:
        - {name: top, image: registry.example.com/tools/top:1.0}
    ```

    ## Remediation
    Remove `hostPID`. Node-level process monitoring belongs in a dedicated, waived agent.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return host_namespace(ctx, pod, "hostPID", "process ID namespace")
