"""RB-009: who can reach the kubelet API through nodes/proxy."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


@inventory_rule(
    id="RB-009",
    reads=RBAC_READS,
    name="nodes-proxy-access",
    title="Subjects can reach the kubelet API through nodes/proxy",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1609"],
        "cis-1.10": ["5.1.10"],
    },
    remediation="Grant nodes/metrics or nodes/stats for monitoring instead of nodes/proxy.",
)
def nodes_proxy_access(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can reach the kubelet API through nodes/proxy.

    ## What it does
    Flags ClusterRole rules that allow `get` or `create` on `nodes/proxy` when bound cluster-wide.
    (Through a RoleBinding it grants nothing: nodes are cluster-scoped.)

    ## Why is this bad?
    nodes/proxy forwards requests to the kubelet API of any node, including its `/exec` and `/run`
    endpoints: commands in every pod of every node. Those requests bypass admission control and
    the API server's audit log records only the proxy call, not the command.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: metrics-scraper}
    rules:
      - apiGroups: [""]
        resources: [nodes, nodes/proxy]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: metrics-scraper}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-scraper}
    subjects:
      - {kind: ServiceAccount, name: scraper, namespace: monitoring}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: metrics-scraper}
    rules:
      - apiGroups: [""]
        resources: [nodes, nodes/metrics, nodes/stats]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: metrics-scraper}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-scraper}
    subjects:
      - {kind: ServiceAccount, name: scraper, namespace: monitoring}
    ```

    ## Remediation
    Monitoring needs `nodes/metrics` and `nodes/stats`, which the kubelet serves read-only. Remove
    `nodes/proxy` (and `nodes/*` style wildcards) from the role.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes
    - https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.NODES_PROXY,))
