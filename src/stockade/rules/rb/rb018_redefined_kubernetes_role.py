"""RB-018: a file's own copy of a Kubernetes ClusterRole that claims less than Kubernetes grants."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.defaults import default_cluster_roles
from stockade.rbac.model import ObjectRef
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


@inventory_rule(
    id="RB-018",
    reads=RBAC_READS,
    name="redefined-kubernetes-role",
    title="Manifest redefines a Kubernetes ClusterRole",
    severity=Severity.HIGH,
    area=Area.RBAC,
    stage=Stage.CRAWL,
    frameworks={"owasp-k8s-2022": ["K03"], "owasp-k8s-2025": ["K02"], "mitre-attack": ["T1098.006"]},
    remediation="Delete the copy; bind Kubernetes' role, or a custom role with its own name.",
    since="0.2.0",
)
def redefined_kubernetes_role(ctx: RuleContext) -> Iterator[Outcome]:
    """Manifest redefines a Kubernetes ClusterRole.

    ## What it does
    Flags a ClusterRole named `cluster-admin` that leaves out any of Kubernetes' rules, and an
    `admin`, `edit` or `view` without the aggregation rule selecting its `aggregate-to-` label.
    Bindings to these roles (and to the `system:aggregate-to-*` sources) are judged by what
    Kubernetes grants, plus any extra rule the copy adds, never by the copy.

    ## Why is this bad?
    The API server reconciles its bootstrap roles at every start: it puts back the rules and the
    aggregation rule a copy leaves out. A copy of `cluster-admin` with one harmless rule makes a
    binding to it look harmless to a reviewer, while the binding still makes its subjects
    administrators of the cluster.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: cluster-admin}
    rules:
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get]
    ```

    ## Use instead
    ```yaml
    # Leave Kubernetes' roles out of the manifests, or copy them whole, as a cluster holds them.
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: cluster-admin}
    rules:
      - apiGroups: ["*"]
        resources: ["*"]
        verbs: ["*"]
      - nonResourceURLs: ["*"]
        verbs: ["*"]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: config-reader}
    rules:
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get]
    ```

    ## Remediation
    Remove the copy from the manifests and give the narrow role its own name; bind that name.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#auto-reconciliation
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
    """
    scan = rbac_scan(ctx)
    for name in default_cluster_roles():
        # Every copy, when the manifests declare one more than once.
        for definition, resource in enumerate(scan.objects.definitions_of(ObjectRef("ClusterRole", None, name))):
            ref = ObjectRef("ClusterRole", None, name, definition)
            how = scan.index.redefined_roles.get(ref)
            if how is None:
                yield Outcome(resource)
                continue
            message = (
                f"{ref} {how}; the API server restores Kubernetes' definition at every start, so bindings "
                "to it grant what Kubernetes' role grants, not what this copy says"
            )
            yield Outcome(resource, (Violation(message, ("rules",)),))
