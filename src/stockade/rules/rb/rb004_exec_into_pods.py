"""RB-004: who can run commands in running pods (exec, attach, port-forward, ephemeral containers)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, rbac_scan


@inventory_rule(
    id="RB-004",
    reads=REVIEW_READS,
    name="exec-into-pods",
    title="Subjects can run commands in running pods",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1609"],
    },
    remediation="Remove pods/exec, pods/attach, pods/portforward and pods/ephemeralcontainers from the role.",
)
def exec_into_pods(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can run commands in running pods.

    ## What it does
    Flags role rules that allow `create` (or `get`, which WebSocket clients used before Kubernetes
    1.30) on `pods/exec` or `pods/attach`, `create` on `pods/portforward`, or `update`/`patch` on
    `pods/ephemeralcontainers`. Rules limited to named pods with `resourceNames` are not reported.
    Cluster-wide it is critical; in a namespace medium, critical where a cluster-admin-equivalent
    ServiceAccount lives.

    ## Why is this bad?
    A shell in a pod is everything the pod has: its ServiceAccount token, its mounted Secrets, its
    network position. An ephemeral container can even be privileged. Whoever can exec into the
    pods of a powerful controller holds that controller's permissions.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: debugger, namespace: shop}
    rules:
      - apiGroups: [""]
        resources: [pods/exec, pods/attach]
        verbs: [create]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-debug, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: debugger}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: observer, namespace: shop}
    rules:
      - apiGroups: [""]
        resources: [pods, pods/log]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-observe, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: observer}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Give day-to-day access through logs and metrics. When a shell is needed, grant exec for a
    limited time (a just-in-time binding) or limit it to named pods with `resourceNames`.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
    - https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.EXEC_PODS,))
