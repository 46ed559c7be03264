"""RB-016: bindings whose role does not exist (a grant waiting for a role of that name)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.rb._messages import some
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


@inventory_rule(
    id="RB-016",
    reads=RBAC_READS,
    name="binding-to-missing-role",
    title="Binding references a role that does not exist",
    severity=Severity.MEDIUM,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1098.006"],
    },
    remediation="Delete the binding, or point it at the role that was meant.",
)
def binding_to_missing_role(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding references a role that does not exist.

    ## What it does
    Flags bindings whose `roleRef` names a Role or ClusterRole that is not among the scanned
    objects: medium for a ClusterRoleBinding, low for a RoleBinding. Kubernetes' default
    ClusterRoles (`cluster-admin`, `admin`, `edit`, `view` and `system:*`) exist on every cluster
    and are not reported missing. Scan the manifests together with the roles they bind.

    ## Why is this bad?
    A dangling binding grants nothing today, but it is a grant waiting to happen: whoever later
    creates a role of that name, for any purpose, hands its permissions to the binding's subjects.
    It also usually means a typo, or a role deleted while its bindings were forgotten.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: ci-deployer, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
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
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: ci-deployer, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Remediation
    Delete the binding if the role is gone for good (`kubectl delete rolebinding -n NS NAME`), or
    fix `roleRef.name` (roleRef cannot be edited: delete and recreate the binding).

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding
    """
    scan = rbac_scan(ctx)
    unknown = set(scan.index.unknown_builtin_roles)
    yield from scan.malformed_binding_outcomes()
    for custom in scan.custom_bindings:
        binding = custom.binding
        role = binding.role_ref
        if role is None or role in unknown:
            continue
        if scan.index.role(role) is not None:
            yield Outcome(custom.resource)
            continue
        cluster = binding.ref.namespace is None
        kind = "clusterrolebinding" if cluster else f"rolebinding -n {binding.ref.namespace}"
        violation = Violation(
            f"{binding.ref} references {role}, which does not exist: creating it would grant its "
            f"permissions to {some(binding.subjects) or 'no one'}",
            ("roleRef", "name"),
            severity=Severity.MEDIUM if cluster else Severity.LOW,
            remediation=f"kubectl delete {kind} {shlex.quote(binding.ref.name)}",
        )
        yield Outcome(custom.resource, (violation,))
