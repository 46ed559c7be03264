"""RB-005: who can create pods, or the workloads that create them."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, rbac_scan


@inventory_rule(
    id="RB-005",
    reads=REVIEW_READS,
    name="create-workloads",
    title="Subjects can create pods or workloads",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1610", "T1053.007"],
        "cis-1.10": ["5.1.4"],
    },
    remediation="Deploy through a pipeline or GitOps controller; keep create on pods and workloads off people.",
)
def create_workloads(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can create pods or workloads.

    ## What it does
    Flags role rules that allow `create` on `pods`, `update` or `patch` on `pods` (a running pod's
    image can be replaced), or `create`, `update` or `patch` on Deployments, DaemonSets,
    StatefulSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers.
    Cluster-wide it is critical; in a namespace medium, critical where a cluster-admin-equivalent
    ServiceAccount lives (or in `kube-system`).

    ## Why is this bad?
    A pod can run as any ServiceAccount of its namespace and mount any Secret, ConfigMap or volume
    there, so creating pods grants all of that implicitly. Unless admission blocks it, the pod can
    also be privileged, use the host's namespaces and land on any node, control plane included.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: shop}
    rules:
      - apiGroups: [apps]
        resources: [deployments]
        verbs: [get, list, create, update, patch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-deploy, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: scaler, namespace: shop}
    rules:
      - apiGroups: [apps]
        resources: [deployments]
        verbs: [get, list, watch]
      - apiGroups: [apps]
        resources: [deployments/scale]
        verbs: [update, patch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-scale, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Let a pipeline or an in-cluster GitOps controller apply workloads, and give people read access
    and scaling. Enforce Pod Security admission (`restricted`) in every namespace where someone can
    still create pods, so the pods they create cannot be privileged.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.CREATE_WORKLOADS,))
