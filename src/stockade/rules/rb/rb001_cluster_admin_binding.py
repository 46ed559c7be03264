"""RB-001: a binding that makes its subjects administrators (cluster-admin or a copy of it)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.rb._messages import some
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


@inventory_rule(
    id="RB-001",
    reads=RBAC_READS,
    name="cluster-admin-binding",
    title="Binding grants cluster-admin",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1078", "T1098.006"],
        "cis-1.10": ["5.1.1"],
    },
    remediation="Bind a role with only the permissions needed; keep cluster-admin for a break-glass group.",
)
def cluster_admin_binding(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding grants cluster-admin.

    ## What it does
    Flags RoleBindings and ClusterRoleBindings that grant `cluster-admin`, or any ClusterRole
    that, like it, allows every verb on every resource of every API group. A ClusterRoleBinding
    makes its subjects administrators of the whole cluster (critical); a RoleBinding makes them
    administrators of its namespace, the Namespace object included (high). The stock binding of
    `cluster-admin` to `system:masters` is Kubernetes' own and is not reported.

    ## Why is this bad?
    cluster-admin can read every Secret, run any pod on any node and rewrite RBAC itself. Every
    identity holding it is a way to take the whole cluster: a leaked CI token, a compromised pod
    whose ServiceAccount has it, a laptop with a user's credentials.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: ci-deployer-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: shop}
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
    metadata: {name: ci-deployer, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Remediation
    Replace the binding with a Role (or a narrow ClusterRole) that grants what the subject does,
    in the namespaces where it does it. Keep cluster-admin for a dedicated, audited break-glass
    group. To remove the binding: `kubectl delete clusterrolebinding NAME`.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
    """
    scan = rbac_scan(ctx)
    yield from scan.malformed_binding_outcomes()
    for custom in scan.custom_bindings:
        binding, subjects = custom.binding, custom.subjects
        role = binding.role_ref
        everything = scan.all_access_definition(role) if role is not None and role.kind == "ClusterRole" else None
        if everything is None or not subjects:
            if subjects:
                yield Outcome(custom.resource)
            continue
        cluster = binding.ref.namespace is None
        scope = "of the whole cluster" if cluster else f"of namespace {binding.ref.namespace}"
        kind = "clusterrolebinding" if cluster else f"rolebinding -n {binding.ref.namespace}"
        violation = Violation(
            f"{binding.ref} makes {some(subjects)} administrators {scope} ({role}: every verb on everything"
            f"{scan.definitions_note(everything.ref, everything.ref)})",
            ("roleRef", "name"),
            severity=Severity.CRITICAL if cluster else Severity.HIGH,
            remediation=f"kubectl delete {kind} {shlex.quote(binding.ref.name)}  # after binding a narrower role",
        )
        yield Outcome(custom.resource, (violation,))
