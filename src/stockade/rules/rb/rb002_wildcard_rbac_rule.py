"""RB-002: wildcards in the verbs, resources or API groups of a custom role's rule."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, rbac_scan


@inventory_rule(
    id="RB-002",
    reads=REVIEW_READS,
    name="wildcard-rbac-rule",
    title="Role rule uses a wildcard for verbs or resources",
    severity=Severity.HIGH,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1098.006"],
        "cis-1.10": ["5.1.3"],
    },
    remediation="List the verbs and resources the role needs instead of '*'.",
)
def wildcard_rbac_rule(ctx: RuleContext) -> Iterator[Outcome]:
    """Role rule uses a wildcard for verbs or resources.

    ## What it does
    Flags rules of custom Roles and ClusterRoles with `*` in `verbs`, `*` in `resources`, a
    `*/subresource` entry or `*` in `apiGroups`. A rule with `*` verbs on `*` resources in `*` API groups is a copy of
    cluster-admin: critical when granted cluster-wide, high in a namespace. The message names who
    holds the rule and through which binding; a rule nobody is granted yet is low (latent).

    ## Why is this bad?
    A wildcard grants every verb, resource or API group that exists today and every one added
    later: the same resource name in another group, new subresources, custom resources of operators installed next year, custom verbs such as
    `escalate`, `bind` and `impersonate`. What the role allows can no longer be read from it.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: platform-operator}
    rules:
      - apiGroups: ["*"]
        resources: ["*"]
        verbs: ["*"]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: platform-operator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: platform-operator}
    subjects:
      - {kind: ServiceAccount, name: operator, namespace: platform}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: platform-operator}
    rules:
      - apiGroups: [platform.example.com]
        resources: [widgets, widgets/status]
        verbs: [get, list, watch, update, patch]
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: platform-operator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: platform-operator}
    subjects:
      - {kind: ServiceAccount, name: operator, namespace: platform}
    ```

    ## Remediation
    Replace each wildcard by the verbs and resources the subject uses. `kubectl auth can-i --list
    --as=system:serviceaccount:NS:NAME` and the API server's audit log show what is used.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources
    """
    scan = rbac_scan(ctx)
    for outcome in danger_outcomes(scan, (Danger.ALL_ACCESS, Danger.WILDCARD)):
        # Kubernetes' own wildcard roles are RB-001's business when bound; only custom roles here.
        if outcome.target.kind in ("Role", "ClusterRole"):
            yield outcome
