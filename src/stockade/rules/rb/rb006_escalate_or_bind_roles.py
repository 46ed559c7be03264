"""RB-006: who can escalate or bind roles (the verbs that lift RBAC's own limit)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rbac.exposure import Exposure
from stockade.rbac.model import ObjectRef
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, RbacScan, rbac_scan


def _bind_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Binding named roles only is delegation; it is as bad as the worst role named."""
    match = exposure.match
    if match.danger is Danger.BIND and match.names:
        named = [ObjectRef("ClusterRole", None, n) for n in match.names]
        if exposure.namespace is not None:
            named += [ObjectRef("Role", exposure.namespace, n) for n in match.names]
        if any(scan.grants_everything(ref) for ref in named):
            return scan.severity(match, exposure.namespace)
        return Severity.MEDIUM
    return scan.severity(match, exposure.namespace)


@inventory_rule(
    id="RB-006",
    reads=REVIEW_READS,
    name="escalate-or-bind-roles",
    title="Subjects can escalate or bind roles beyond their own permissions",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1098.006", "T1068"],
        "cis-1.10": ["5.1.8"],
    },
    remediation="Remove the escalate and bind verbs; limit bind to named, harmless roles with resourceNames.",
)
def escalate_or_bind_roles(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can escalate or bind roles beyond their own permissions.

    ## What it does
    Flags role rules that allow the `escalate` or `bind` verb on `roles` or `clusterroles`.
    Cluster-wide it is critical, in a namespace high. `bind` limited with `resourceNames` to
    named roles (the documented way to delegate `admin`/`edit`/`view`) is medium, unless one of the
    named roles grants everything.

    ## Why is this bad?
    The API server stops people from writing a role or binding with more permissions than they
    hold, except for holders of `escalate` (write any rule into a role) and `bind` (bind any role,
    `cluster-admin` included). With either verb, what the subject holds today says nothing about
    what it can hold tomorrow.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: access-manager}
    rules:
      - apiGroups: [rbac.authorization.k8s.io]
        resources: [clusterroles, roles]
        verbs: [bind, escalate]
      - apiGroups: [rbac.authorization.k8s.io]
        resources: [rolebindings, clusterrolebindings]
        verbs: [create]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: access-manager}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-manager}
    subjects:
      - {kind: User, name: jane@example.com, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: access-reviewer}
    rules:
      - apiGroups: [rbac.authorization.k8s.io]
        resources: [clusterroles, roles, rolebindings, clusterrolebindings]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: access-reviewer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-reviewer}
    subjects:
      - {kind: User, name: jane@example.com, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Remove `escalate` and `bind`. To let a team grant access in its namespaces, allow `create` on
    `rolebindings` plus `bind` with `resourceNames: [edit, view]`.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.ESCALATE, Danger.BIND), rate=_bind_rate)
